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

        Where regexes differ from JavaScript is in the table "Differences from JavaScript" (rows `regex-...`).

        """
}
