import FlowrunTesting
import Foundation
import Testing

/// The operator console in a real browser: a real `flowrun serve` with the demo flows (mock-crm and
/// user-sync, a SQLite store in a temp directory, an admin token) driven by headless Chromium through
/// Selenium (Tests/Browser/console_test.py). The script saves screenshots of the main pages into
/// docs/console/ (shown in the README) when FLOWRUN_RECORD_SCREENSHOTS=1. Needs FLOWRUN_TEST_PYTHON (scripts/test makes a venv with
/// selenium) and Debian's chromium and chromium-driver; skipped with the reason when one is missing.
@Suite struct ConsoleBrowserTests {
    static let chromium = "/usr/bin/chromium"
    static let chromedriver = "/usr/bin/chromedriver"

    static var missing: String? {
        if ProcessInfo.processInfo.environment["FLOWRUN_TEST_PYTHON"] == nil {
            return "FLOWRUN_TEST_PYTHON is not set (scripts/test makes a venv with selenium)"
        }
        for path in [chromium, chromedriver] where !FileManager.default.isExecutableFile(atPath: path) {
            return "\(path) is missing (apt-get install chromium chromium-driver)"
        }
        return nil
    }

    @Test func theConsoleWorksInABrowser() throws {
        if let missing = Self.missing {
            print("ConsoleBrowserTests skipped: \(missing)")
            return
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("flowrun-console-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let crmPort = freePort()
        let adminPort = freePort()
        let token = "console-test-token"
        let state = dir.appendingPathComponent("state.db").path
        var env = ProcessInfo.processInfo.environment
        env["MOCK_CRM_PORT"] = String(crmPort)
        env["API_BASE_URL"] = "http://127.0.0.1:\(crmPort)"
        env["USER_SYNC_WEBHOOK_PORT"] = String(freePort())
        env["MOCK_CRM_POISON"] = "u3,u5,u8"  // dead letters to replay and skip
        env["MOCK_CRM_DELAY"] = "700ms"  // slow enough to watch progress and to cancel a run
        env["DATABASE_URL"] = nil

        let serve = Process()
        serve.executableURL = CLITests.binary
        serve.arguments = [
            "serve", CLITests.repo.appendingPathComponent("flows/mock-crm.yaml").path,
            CLITests.repo.appendingPathComponent("flows/user-sync.yaml").path, "--state", state, "--admin",
            "127.0.0.1:\(adminPort)", "--admin-token", token, "--log-format", "json",
        ]
        serve.environment = env
        serve.currentDirectoryURL = dir
        let log = dir.appendingPathComponent("serve.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        serve.standardError = try FileHandle(forWritingTo: log)
        serve.standardOutput = FileHandle.nullDevice
        try serve.run()
        defer {
            serve.terminate()
            _ = ChildProcess.exitStatus(serve)
        }
        // Ready when serve logs its admin address (polled with a deadline).
        let deadline = Date().addingTimeInterval(30)
        var ready = false
        while Date() < deadline, !ready {
            ready = ((try? String(contentsOf: log, encoding: .utf8)) ?? "").contains("admin API on")
            if !ready { Thread.sleep(forTimeInterval: 0.1) }
        }
        #expect(ready, "flowrun serve did not answer: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        guard ready else { return }

        let script = Process()
        script.executableURL = URL(fileURLWithPath: ProcessInfo.processInfo.environment["FLOWRUN_TEST_PYTHON"]!)
        script.arguments = [CLITests.repo.appendingPathComponent("Tests/Browser/console_test.py").path]
        var scriptEnv = ProcessInfo.processInfo.environment
        scriptEnv["CONSOLE_URL"] = "http://127.0.0.1:\(adminPort)"
        scriptEnv["CONSOLE_TOKEN"] = token
        scriptEnv["FLOWRUN"] = CLITests.binary.path
        scriptEnv["STATE"] = state
        // Screenshots hold run ids and times, so they differ on every run: they are re-taken into
        // docs/console/ (and committed) only when FLOWRUN_RECORD_SCREENSHOTS=1, else into a temp dir.
        let record = ProcessInfo.processInfo.environment["FLOWRUN_RECORD_SCREENSHOTS"] == "1"
        scriptEnv["SHOTS"] =
            record
            ? CLITests.repo.appendingPathComponent("docs/console").path
            : FileManager.default.temporaryDirectory.appendingPathComponent("flowrun-console-shots").path
        scriptEnv["CHROMIUM"] = Self.chromium
        scriptEnv["CHROMEDRIVER"] = Self.chromedriver
        script.environment = scriptEnv
        let output = Pipe()
        script.standardOutput = output
        script.standardError = output
        try script.run()
        let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let scriptStatus = ChildProcess.exitStatus(script)
        print(printed)
        #expect(
            scriptStatus == 0,
            "\(printed)\nserve log (tail): \(((try? String(contentsOf: log, encoding: .utf8)) ?? "").suffix(3000))")
        #expect(printed.contains("a POST without the CSRF token is refused"))
    }
}
