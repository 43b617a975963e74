/// Where the admin API listens, from `--admin`: `host:port`, `[ipv6]:port`, or `off`. A token is
/// required on any address but loopback (127.0.0.0/8, `::1`, `localhost`): without one the API would let
/// anyone who can reach the port trigger and cancel runs and read run records.
public struct AdminAddress: Equatable, Sendable {
    public let host: String
    public let port: UInt16

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    /// Nil for `off`; an error for a malformed address or a missing token off loopback.
    public static func parse(_ text: String, token: String?) throws(Invalid) -> AdminAddress? {
        if text == "off" { return nil }
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[close...].hasPrefix("]:") else {
                throw Invalid(description: "--admin is host:port or [ipv6]:port, not '\(text)'")
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw Invalid(description: "--admin is host:port or [ipv6]:port, not '\(text)'")
            }
            host = parts[0]
            portText = parts[1]
        }
        guard !host.isEmpty, let port = UInt16(portText) else {
            throw Invalid(description: "--admin is host:port or [ipv6]:port, not '\(text)'")
        }
        let address = AdminAddress(host: host == "localhost" ? "127.0.0.1" : String(host), port: port)
        if !address.isLoopback && (token ?? "").isEmpty {
            throw Invalid(
                description:
                    "--admin on \(host) needs a non-empty token (--admin-token or FLOWRUN_ADMIN_TOKEN); "
                    + "without one only a loopback address (127.0.0.1, [::1]) is allowed")
        }
        return address
    }

    public var isLoopback: Bool {
        host == "::1" || host.hasPrefix("127.") && host.split(separator: ".").count == 4
    }

    /// `host:port`, with brackets around an IPv6 host.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
