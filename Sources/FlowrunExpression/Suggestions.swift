/// Help for unknown function and method names: names people bring from JavaScript, Python and SQL, then
/// the closest name by edit distance.
enum Suggestions {
    /// Function names tried in other languages -> what flowrun writes.
    static let functionAliases: [String: String] = [
        "lowercase": "lower(x) or x.toLowerCase()", "tolower": "lower(x) or x.toLowerCase()",
        "tolowercase": "lower(x) or x.toLowerCase()", "downcase": "lower(x) or x.toLowerCase()",
        "lcase": "lower(x) or x.toLowerCase()",
        "uppercase": "upper(x) or x.toUpperCase()", "toupper": "upper(x) or x.toUpperCase()",
        "touppercase": "upper(x) or x.toUpperCase()", "upcase": "upper(x) or x.toUpperCase()",
        "ucase": "upper(x) or x.toUpperCase()",
        "length": "len(x) or x.length", "size": "len(x) or x.length", "count": "len(x) or x.length",
        "strlen": "len(x) or x.length", "char_length": "len(x) or x.length",
        "strip": "trim(x) or x.trim()", "btrim": "trim(x) or x.trim()",
        "time": "now()", "timestamp": "now()", "current_timestamp": "now()", "getdate": "now()", "sysdate": "now()",
        "date.now": "now()",
        "parseint": "int(x)", "toint": "int(x)", "integer": "int(x)", "number": "int(x) or float(x)",
        "parsefloat": "float(x)", "double": "float(x)",
        "str": "string(x)", "tostring": "string(x)", "boolean": "bool(x)",
        "coalesce": "a ?? b", "ifnull": "a ?? b", "nvl": "a ?? b", "isnull": "a ?? b",
        "substr": "x.slice(start, end)", "substring": "x.slice(start, end)", "mid": "x.slice(start, end)",
        "contains": "x.includes(y)", "sum": "xs.reduce((a, x) => a + x, 0)",
        "strftime": "formatTime(t, 'YYYY-MM-DD')", "date_format": "formatTime(t, 'YYYY-MM-DD')",
        "formatdate": "formatTime(t, 'YYYY-MM-DD')", "to_char": "formatTime(t, 'YYYY-MM-DD')",
        "to_json": "JSON.stringify(x)", "json_encode": "JSON.stringify(x)", "dumps": "JSON.stringify(x)",
        "json_decode": "JSON.parse(s)", "loads": "JSON.parse(s)",
        "urlencode": "encodeURIComponent(s)", "encodeurl": "encodeURIComponent(s)",
        "escape": "encodeURIComponent(s)", "quote": "encodeURIComponent(s)", "urldecode": "decodeURIComponent(s)",
        "unescape": "decodeURIComponent(s)", "unquote": "decodeURIComponent(s)",
        "regexp": "regex(pattern, flags) or /pattern/flags", "re": "regex(pattern, flags) or /pattern/flags",
        "match": "s.match(re)", "regexp_like": "test(s, re)",
    ]

    /// Method names tried in other languages -> what flowrun writes.
    static let methodAliases: [String: String] = [
        "lower": ".toLowerCase()", "lowercase": ".toLowerCase()", "tolower": ".toLowerCase()",
        "upper": ".toUpperCase()", "uppercase": ".toUpperCase()", "toupper": ".toUpperCase()",
        "strip": ".trim()", "trimstart": ".trim()", "trimend": ".trim()", "lstrip": ".trim()", "rstrip": ".trim()",
        "startswith": ".startsWith(s)", "endswith": ".endsWith(s)", "contains": ".includes(x)",
        "has": ".includes(x)", "len": ".length or len(x)", "length": ".length (a field) or len(x)",
        "size": ".length or len(x)", "count": ".length or len(x)", "substr": ".slice(start, end)",
        "substring": ".slice(start, end)", "index": ".indexOf(x)", "find_index": ".indexOf(x)",
        "findindex": ".indexOf(x)", "push": ".concat(x)", "append": ".concat(x)", "foreach": ".map(x => ...)",
        "sub": ".replace(re, s)", "gsub": ".replaceAll(re, s)", "matches": ".test(s) or .match(re)",
        "exec": ".match(re) or .matchAll(re)", "last": ".at(-1)", "first": ".at(0)", "get": ".at(i)",
    ]

    /// Help for a call of an unknown function `name`.
    static func function(_ name: String) -> String? {
        if let alias = functionAliases[name.lowercased()] { return "did you mean \(alias)?" }
        if let close = didYouMean(name, Builtins.byName.keys) { return close }
        if Methods.byName[name] != nil { return "\(name) is a method: write x.\(name)(...)" }
        return nil
    }

    /// Help for a call of an unknown method `.name(...)`.
    static func method(_ name: String) -> String? {
        if let alias = methodAliases[name.lowercased()] { return "did you mean \(alias)?" }
        if let close = didYouMean(name, Methods.byName.keys) { return close }
        if Builtins.byName[name] != nil { return "\(name) is a function: write \(name)(x)" }
        return nil
    }
}
