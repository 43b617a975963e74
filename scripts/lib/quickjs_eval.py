"""Evaluates flowrun's generated expressions in QuickJS for Tests/FlowrunExpressionTests/DifferentialTests.swift.

stdin: {"message": <the value of $>, "expressions": ["...", ...]}
stdout: [{"ok": true, "json": "<JSON.stringify of the result>" or null for undefined}
         | {"ok": false, "error": "<message>"}, ...] in the same order.
"""
import json
import sys

import quickjs


def main():
    batch = json.load(sys.stdin)
    context = quickjs.Context()
    context.set_memory_limit(256 * 1024 * 1024)
    context.set_time_limit(5)
    context.eval("var $ = " + json.dumps(batch["message"]) + ";")
    results = []
    for expression in batch["expressions"]:
        try:
            text = context.eval("JSON.stringify((function () { return (" + expression + "); })())")
            results.append({"ok": True, "json": text})
        except Exception as error:  # QuickJS raises JSException (and its own errors) for JS exceptions
            results.append({"ok": False, "error": str(error).splitlines()[0]})
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
