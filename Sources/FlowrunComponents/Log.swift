import FlowrunValue
import FlowrunRuntime
import FlowrunExpression
import FlowrunGraph

/// Prints messages, with secrets redacted.
public enum Log {
    public static let descriptor = ComponentDescriptor(
        name: "log",
        summary: "Prints each message as text or JSON, with secrets redacted.",
        doc:
            "Writes each incoming message to the log at `level`. Declared secrets (also lower/upper case, URL-encoded and in Base64) and credential headers (`Authorization`, `Cookie`, ...) are replaced by `***`.",
        settings: [
            SettingDescriptor(
                "format", .enumeration(["text", "json"]), default: "text", doc: "Text or one JSON object per line.",
                example: "json"),
            SettingDescriptor(
                "level", .enumeration(["debug", "info", "warning", "error"]), default: "info",
                doc: "Log level.", example: "warning"),
            SettingDescriptor(
                "message", .string, doc: "A fixed message printed before the data.", example: "sync finished"),
        ],
        ports: [.input("in", .any, doc: "Any message.")],
        example: """
            report:
              component: log
              settings: {format: json}
            """,
        dryRun: "Logs as in a normal run.",
        transfer: { _ in [:] }
    )
}

extension Log {
    final class Instance: Component {
        func receive(_ message: Value, on port: String, _ context: inout NodeContext) throws(NodeError) {
            let level = LogLevel(rawValue: context.setting("level").stringValue ?? "info") ?? .info
            guard context.logs(level) else { return }
            let prefix = context.setting("message").stringValue.map { $0 + " " } ?? ""
            let redacted = context.redactor.redact(message)
            let text = context.setting("format").stringValue == "json" ? JSON.serialize(redacted) : Log.text(redacted)
            context.log(level, prefix + text)
        }
    }

    /// Text form: strings as-is, anything else as compact JSON.
    static func text(_ value: Value) -> String {
        if case .string(let s) = value { return s }
        return JSON.serialize(value)
    }

    public static let factory: ComponentFactory = { _ in Instance() }
}
