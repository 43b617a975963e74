import FlowrunExpression
import FlowrunValue
import Testing

/// SHA-256 and HMAC-SHA256 (swift-crypto) against published vectors, the builtins that use them, Base64
/// as the builtins always decoded it, and the constant-time comparison used for tokens and signatures.
@Suite struct HashingTests {
    static func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (
            "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        ),
    ])
    func sha256KnownVectors(_ input: String, _ hex: String) {
        #expect(Digest.hex(Digest.sha256(Self.bytes(input))) == hex)
        #expect(evaluate("<<sha256(\(JSON.serialize(.string(input))))>>") == JSON.serialize(.string(hex)))
    }

    /// RFC 4231 test cases 1, 2 and 6 (a key longer than the block size).
    @Test func hmacSHA256KnownVectors() {
        let key1 = [UInt8](repeating: 0x0b, count: 20)
        #expect(
            Digest.hex(Digest.hmacSHA256(key: key1, message: Self.bytes("Hi There")))
                == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        let mac = Digest.hmacSHA256(key: Self.bytes("Jefe"), message: Self.bytes("what do ya want for nothing?"))
        #expect(Digest.hex(mac) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        #expect(
            Digest.isValidHMACSHA256(mac, key: Self.bytes("Jefe"), message: Self.bytes("what do ya want for nothing?")))
        #expect(!Digest.isValidHMACSHA256(mac, key: Self.bytes("Jefe"), message: Self.bytes("what do ya want")))
        #expect(!Digest.isValidHMACSHA256([], key: Self.bytes("Jefe"), message: []))
        let key6 = [UInt8](repeating: 0xaa, count: 131)
        #expect(
            Digest.hex(
                Digest.hmacSHA256(
                    key: key6, message: Self.bytes("Test Using Larger Than Block-Size Key - Hash Key First")))
                == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }

    @Test func hexRoundTrips() {
        #expect(Digest.unhex("00ff10Ab") == [0, 255, 16, 171])
        #expect(Digest.unhex("abc") == nil)
        #expect(Digest.unhex("zz") == nil)
    }

    @Test func constantTimeEqualCompares() {
        #expect(Digest.constantTimeEqual(Self.bytes("Bearer t0k"), Self.bytes("Bearer t0k")))
        #expect(!Digest.constantTimeEqual(Self.bytes("Bearer t0k"), Self.bytes("Bearer t0K")))
        #expect(!Digest.constantTimeEqual(Self.bytes("Bearer t0k"), Self.bytes("Bearer t0k2")))
        #expect(!Digest.constantTimeEqual([], Self.bytes("x")))
    }

    @Test(arguments: [
        ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foobar", "Zm9vYmFy"), ("é~?", "w6l+Pw=="),
    ])
    func base64KnownVectors(_ plain: String, _ encoded: String) {
        #expect(evaluate("<<base64(\(JSON.serialize(.string(plain))))>>") == JSON.serialize(.string(encoded)))
        #expect(evaluate("<<base64decode('\(encoded)')>>") == JSON.serialize(.string(plain)))
    }

    /// Unpadded, URL-safe and line-broken input decodes as before; trailing bits are ignored; other
    /// characters and impossible lengths are errors.
    @Test func base64DecodeKeepsItsLeniency() {
        #expect(Base64.decode("Zm8") == Self.bytes("fo"))
        #expect(Base64.decode("w6l-Pw") == Self.bytes("é~?"))
        #expect(Base64.decode("w6l_") == [0xc3, 0xa9, 0x7f])
        #expect(Base64.decode("Zm9v\r\nYmFy") == Self.bytes("foobar"))
        #expect(Base64.decode("Zh==") == Self.bytes("f"))
        #expect(Base64.decode("Zm9vY") == nil)
        #expect(Base64.decode("Zm9v!") == nil)
    }
}
