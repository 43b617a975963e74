import Foundation

/// The results of `flowrun test` for people (a line per case, failures with file:line and a diff,
/// a summary) and for CI (JUnit XML).
public enum FlowTestReport {
    public struct FileResult: Sendable {
        public let path: String
        /// Problems that kept the file from running (rendered diagnostics); its cases did not run.
        public let problems: String?
        public let cases: [FlowTestRunner.CaseResult]

        public init(path: String, problems: String?, cases: [FlowTestRunner.CaseResult]) {
            self.path = path
            self.problems = problems
            self.cases = cases
        }
    }

    /// Loads and runs one test file.
    public static func run(_ path: String) -> FileResult {
        let file: FlowTestFile
        do throws(FlowTestFile.LoadError) { file = try FlowTestFile.load(path) } catch {
            return FileResult(path: path, problems: error.description, cases: [])
        }
        do throws(FlowTestRunner.FlowProblem) {
            return FileResult(path: path, problems: nil, cases: try FlowTestRunner.run(file))
        } catch {
            return FileResult(path: path, problems: error.description, cases: [])
        }
    }

    /// 0 when every case passed, 1 when one failed, 2 when a test file was bad.
    public static func exitCode(_ results: [FileResult]) -> Int32 {
        if results.contains(where: { $0.problems != nil }) { return 2 }
        return results.allSatisfy { $0.cases.allSatisfy(\.passed) } ? 0 : 1
    }

    public static func text(_ results: [FileResult]) -> String {
        var out = ""
        for file in results {
            out += file.path + "\n"
            if let problems = file.problems {
                out += "  ✘ bad test file\n" + indent(problems.trimmingCharacters(in: .newlines), by: 6) + "\n"
                continue
            }
            for c in file.cases {
                out += "  \(c.passed ? "✔" : "✘") \(c.name) (\(Running.duration(c.durationNanos)))\n"
                for f in c.failures {
                    out += indent((f.location.isEmpty ? "" : f.location + ": ") + f.message, by: 6) + "\n"
                    if let diff = f.diff { out += indent(diff, by: 8) + "\n" }
                }
            }
        }
        let cases = results.flatMap(\.cases)
        let failed = cases.filter { !$0.passed }.count
        let bad = results.filter { $0.problems != nil }.count
        out += "\n\(cases.count) case\(cases.count == 1 ? "" : "s"): \(cases.count - failed) passed, \(failed) failed"
        if bad > 0 { out += ", \(bad) bad test file\(bad == 1 ? "" : "s")" }
        out += " (\(results.count) file\(results.count == 1 ? "" : "s"))\n"
        return out
    }

    static func indent(_ text: String, by n: Int) -> String {
        let pad = String(repeating: " ", count: n)
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { pad + $0 }.joined(separator: "\n")
    }

    /// JUnit XML: a `testsuite` per file, a `testcase` per case; a bad file is a suite with one `error`.
    public static func junit(_ results: [FileResult]) -> String {
        let all = results.flatMap(\.cases)
        let errors = results.filter { $0.problems != nil }.count
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out +=
            "<testsuites name=\"flowrun test\" tests=\"\(all.count + errors)\" failures=\"\(all.filter { !$0.passed }.count)\" errors=\"\(errors)\" time=\"\(seconds(all.map(\.durationNanos).reduce(0, +)))\">\n"
        for file in results {
            let failures = file.cases.filter { !$0.passed }.count
            let time = seconds(file.cases.map(\.durationNanos).reduce(0, +))
            out +=
                "  <testsuite name=\"\(xml(file.path))\" tests=\"\(max(file.cases.count, file.problems == nil ? 0 : 1))\" failures=\"\(failures)\" errors=\"\(file.problems == nil ? 0 : 1)\" time=\"\(time)\">\n"
            if let problems = file.problems {
                out += "    <testcase classname=\"\(xml(file.path))\" name=\"load\" time=\"0\">\n"
                out += "      <error message=\"bad test file\">\(xml(problems))</error>\n    </testcase>\n"
            }
            for c in file.cases {
                out +=
                    "    <testcase classname=\"\(xml(file.path))\" name=\"\(xml(c.name))\" time=\"\(seconds(c.durationNanos))\""
                guard !c.passed else {
                    out += "/>\n"
                    continue
                }
                out += ">\n"
                for f in c.failures {
                    let detail =
                        (f.location.isEmpty ? "" : f.location + ": ") + f.message + (f.diff.map { "\n" + $0 } ?? "")
                    out += "      <failure message=\"\(xml(f.message))\">\(xml(detail))</failure>\n"
                }
                out += "    </testcase>\n"
            }
            out += "  </testsuite>\n"
        }
        return out + "</testsuites>\n"
    }

    static func seconds(_ nanos: Int) -> String { String(format: "%.3f", Double(nanos) / 1e9) }

    /// Text escaped for XML attributes and content; characters XML 1.0 cannot hold become U+FFFD.
    static func xml(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "\n", "\t", "\r": out.unicodeScalars.append(scalar)
            default:
                out.unicodeScalars.append(
                    scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF ? "\u{FFFD}" : scalar)
            }
        }
        return out
    }
}
