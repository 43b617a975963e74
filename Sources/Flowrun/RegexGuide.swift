extension DocsRenderer {
    /// The regular-expression part of components/expressions.md.
    static let regexGuide = """
        ## Regular expressions

        A regex literal `/pattern/flags` may stand wherever an operand can (after `(`, `,`, an operator, `=>` and
        so on, as in JavaScript; after a value `/` divides), or build one from text with `regex(pattern, flags)`.
        The pattern syntax is JavaScript's: classes `[a-z] [^...] \\d \\w \\s \\b`, groups `(...)`, `(?:...)`,
        named groups `(?<name>...)`, back references `\\1`, alternation, greedy and lazy quantifiers
        `* + ? {n,m} *?`, lookahead `(?=...) (?!...)`, lookbehind, anchors `^ $`, escapes `\\xhh \\uhhhh \\u{h...}`,
        and the flags `g` (every match), `i` (ignore case), `m` (`^ $` at line ends), `s` (`.` matches line ends
        too), `u` (code points) and `y` (sticky). Matching runs over UTF-16 code units, as in JavaScript, so
        indexes agree with `.length`.

        - `re.test(s)` or `test(s, re)`, `s.search(re)`, `s.match(re)`, `s.matchAll(re)` (g required),
          `s.replace(re, b)` (all matches with g), `s.replaceAll(re, b)` (g required) and `s.split(re)`; in the
          replacement `$1`..`$99`, `$<name>`, `$&`, `` $` ``, `$'` and `$$` mean what they mean in JavaScript.
        - `s.match(re)` gives `[match, group1, ...]` (without g) or every match (with g), null when nothing
          matches; for indexes and named groups use `s.matchAll(re)`, whose items are
          `{match, index, captures, groups}`.
        - A regex is a value: the object `{source, flags}`. It can be passed around and stored in messages (it
          serialises as that object), and the methods above treat any object of exactly those two string fields
          as a regex.
        - A pattern in a literal, or a `regex(...)` of constant strings, is compiled once when the flow loads and
          a bad one is a load-time diagnostic `E119` with its file:line:col. Patterns built at run time are
          compiled when first used and kept in a small cache (`E119` on the node's error port when invalid).
        - Matching is bounded (PCRE2's match, depth and heap limits): a pattern that backtracks
          catastrophically, such as `(a+)+$` on `'aaaa...b'`, stops with `E129` on the node's error port
          instead of hanging the run.

        Where regexes differ from JavaScript:

        | difference | why |
        |---|---|
        | matching can fail with `E129` (1,000,000 backtracking steps, 1,000,000 levels, 64 MiB) | a pattern or subject from data must not hang a run |
        | `s.match(re)` without g is a plain array: no `.index`, `.groups` or `.input` on it | arrays have no extra properties in the value model; `matchAll` gives index and groups |
        | no `lastIndex`: `re.test(s)` and `re.exec` state do not carry over between calls (there is no `exec`) | expressions are pure functions of their inputs |
        | a regex is the plain object `{source, flags}` (`typeof` would say object; `==` compares source and flags) | one value model that serialises into messages |
        | `.` and `^ $` with m stop at CR and LF but not at U+2028/U+2029; `\\s` is ASCII white space | PCRE2's newline setting and character tables |
        | `i` folds case for ASCII letters only unless the u flag is set; lookbehind must have a bounded length | PCRE2's matching rules |
        | a match that splits a surrogate pair (a lone surrogate, without u) comes out as U+FFFD | strings are always valid Unicode |
        | `s.replace(re, fn)` with a function replacement is not supported | arrow functions are only method arguments of arrays |

        """
}
