import FlowrunExpression
import FlowrunGraph

/// Prints messages, with secrets redacted.
public enum Log {
    public static let descriptor = ComponentDescriptor(
        name: "log",
        summary: "Prints each message as text or JSON, with secrets redacted.",
        doc: "Writes each incoming message to the log at `level`. Any value of a declared secret is replaced by `***`.",
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
        transfer: { _ in [:] }
    )
}
