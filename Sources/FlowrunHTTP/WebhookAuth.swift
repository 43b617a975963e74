import FlowrunExpression

extension HTTPServer {
    /// The `auth` setting of an http-server node. Everything that can be checked from the head is checked
    /// before the body is read (`admit`); the HMAC signature, which covers the body, after it (`verify`).
    struct Auth: Sendable {
        let bearer: String?
        let hmacSecret: String?
        let hmacHeader: String

        func admit(_ head: RequestHead) -> ServerResponse? {
            if let bearer {
                let given = Array((head.header("Authorization") ?? "").utf8)
                if !Digest.constantTimeEqual(given, Array("Bearer \(bearer)".utf8)) {
                    return .error(401, "missing or wrong bearer token")
                }
            }
            if hmacSecret != nil, head.header(hmacHeader) == nil {
                return .error(401, "missing or wrong \(hmacHeader) signature")
            }
            return nil
        }

        /// `sha256=<hex>` (GitHub style) or bare hex of HMAC-SHA256(secret, body).
        func verify(_ request: ServerRequest) -> ServerResponse? {
            guard let hmacSecret else { return nil }
            var given = Substring(request.head.header(hmacHeader) ?? "")
            if given.hasPrefix("sha256=") { given.removeFirst(7) }
            let mac = Digest.unhex(String(given)) ?? []
            return Digest.isValidHMACSHA256(mac, key: Array(hmacSecret.utf8), message: request.body)
                ? nil : .error(401, "missing or wrong \(hmacHeader) signature")
        }
    }
}
