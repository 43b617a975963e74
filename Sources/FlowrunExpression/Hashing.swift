import Crypto
import Foundation

/// SHA-256, Base64 and random UUIDs for the `sha256`, `base64`, `base64decode` and `uuid` builtins.
/// Hashing and HMAC come from swift-crypto; Base64 from Foundation (bench/README.md has the build cost).
enum Hashing {
    static func sha256Hex(_ message: [UInt8]) -> String { Digest.hex(Digest.sha256(message)) }

    static func base64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }

    /// Decodes standard or URL-safe Base64, padded or not (line breaks ignored); nil on any other character.
    static func base64Decode(_ text: String) -> [UInt8]? {
        var standard: [UInt8] = []
        standard.reserveCapacity(text.utf8.count + 3)
        for c in text.utf8 {
            switch c {
            case 65...90, 97...122, 48...57, UInt8(ascii: "+"), UInt8(ascii: "/"): standard.append(c)
            case UInt8(ascii: "-"): standard.append(UInt8(ascii: "+"))
            case UInt8(ascii: "_"): standard.append(UInt8(ascii: "/"))
            case UInt8(ascii: "="), 0x0A, 0x0D: continue
            default: return nil
            }
        }
        if standard.count % 4 == 1 { return nil }
        while standard.count % 4 != 0 { standard.append(UInt8(ascii: "=")) }
        // Foundation rejects non-zero trailing bits; the builtin always ignored them, so clear them.
        if let last = standard.lastIndex(where: { $0 != UInt8(ascii: "=") }) {
            let padding = standard.count - 1 - last
            if padding > 0, let v = sextet(standard[last]) {
                let mask: UInt8 = padding == 1 ? 0b11_1100 : 0b11_0000
                standard[last] = alphabet[Int(v & mask)]
            }
        }
        return Data(base64Encoded: Data(standard)).map { Array($0) }
    }

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    private static func sextet(_ c: UInt8) -> UInt8? {
        switch c {
        case 65...90: return c - 65
        case 97...122: return c - 71
        case 48...57: return c + 4
        case UInt8(ascii: "+"): return 62
        case UInt8(ascii: "/"): return 63
        default: return nil
        }
    }

    static func uuid() -> String { UUID().uuidString.lowercased() }
}

/// Base64 for other modules (the redactor decodes Base64-looking tokens to find encoded secrets).
public enum Base64 {
    public static func encode(_ bytes: [UInt8]) -> String { Hashing.base64(bytes) }

    /// Standard or URL-safe Base64, padded or not; nil on any other character.
    public static func decode(_ text: String) -> [UInt8]? { Hashing.base64Decode(text) }
}

/// SHA-256 and HMAC-SHA256 over bytes (swift-crypto), for webhook signatures, tokens and the `sha256` builtin.
public enum Digest {
    public static func sha256(_ message: [UInt8]) -> [UInt8] { Array(SHA256.hash(data: message)) }

    public static func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
    }

    /// Whether `mac` is HMAC-SHA256(key, message), compared in constant time.
    public static func isValidHMACSHA256(_ mac: [UInt8], key: [UInt8], message: [UInt8]) -> Bool {
        HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: message, using: SymmetricKey(data: key))
    }

    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] }, as: UTF8.self)
    }

    /// Bytes of lowercase or uppercase hex; nil on anything else or an odd length.
    public static func unhex(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: return c - 48
            case 97...102: return c - 87
            case 65...70: return c - 55
            default: return nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 2)
        for i in stride(from: 0, to: chars.count, by: 2) {
            guard let hi = nibble(chars[i]), let lo = nibble(chars[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
        }
        return out
    }

    /// Compares in constant time (tokens, signatures): the SHA-256 digests of both sides are compared with
    /// swift-crypto's constant-time digest equality, so neither the matching prefix nor the length leaks.
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        SHA256.hash(data: a) == SHA256.hash(data: b)
    }
}
