import CCurl
import Foundation

/// One HTTP request as libcurl will send it.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(String, String)]
    public var body: [UInt8]?
    public var timeoutMillis: Int
    public var maxResponseBytes: Int
    public var followRedirects: Bool

    public init(
        method: String = "GET", url: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
        timeoutMillis: Int = 30_000, maxResponseBytes: Int = 64 << 20, followRedirects: Bool = true
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeoutMillis = timeoutMillis
        self.maxResponseBytes = maxResponseBytes
        self.followRedirects = followRedirects
    }
}

public struct HTTPResponse: Sendable {
    public var statusCode: Int
    /// Header names in lower case; repeated headers joined with ", ".
    public var headers: [(String, String)]
    public var body: [UInt8]
    public var durationMillis: Double

    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.0 == lower }?.1
    }
}

/// A transport failure (no HTTP status): connection refused, timeout, TLS, DNS, body too large.
public struct TransportError: Error, Sendable, CustomStringConvertible {
    public let code: Int
    public let message: String
    public let timedOut: Bool
    public var description: String { message }
}

/// libcurl's multi interface on one dedicated thread: many requests in flight, connections reused,
/// completions delivered through callbacks. Blocking curl calls never run on Swift's cooperative pool.
public final class CurlEngine: @unchecked Sendable {
    public static let shared = CurlEngine()

    private let multi: UnsafeMutableRawPointer
    private let lock = NSLock()
    private var pending: [Transfer] = []
    private var active = 0

    private init() {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT))
        multi = curl_multi_init()!
        let thread = Thread { [unowned self] in self.loop() }
        thread.name = "flowrun-curl"
        thread.start()
    }

    /// Sends `request`; `completion` runs once on the engine's thread.
    public func send(
        _ request: HTTPRequest, completion: @escaping @Sendable (Result<HTTPResponse, TransportError>) -> Void
    ) {
        let transfer = Transfer(request: request, completion: completion)
        lock.withLock { pending.append(transfer) }
        curl_multi_wakeup(multi)
    }

    private func loop() {
        var running: Int32 = 0
        while true {
            let batch = lock.withLock {
                defer { pending.removeAll() }
                return pending
            }
            for t in batch {
                if let failure = t.prepare() {
                    t.finish(.failure(failure))
                    continue
                }
                curl_multi_add_handle(multi, t.easy)
                active += 1
            }
            curl_multi_perform(multi, &running)
            var left: Int32 = 0
            while let message = curl_multi_info_read(multi, &left) {
                guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
                let code = message.pointee.data.result
                var raw: UnsafeMutableRawPointer?
                flowrun_easy_getinfo_pointer(easy, CURLINFO_PRIVATE, &raw)
                curl_multi_remove_handle(multi, easy)
                active -= 1
                guard let raw else { continue }
                let transfer = Unmanaged<Transfer>.fromOpaque(raw).takeRetainedValue()
                transfer.complete(code)
            }
            curl_multi_poll(multi, nil, 0, active > 0 ? 100 : 1000, nil)
        }
    }
}

/// The state of one request while libcurl works on it.
final class Transfer {
    let request: HTTPRequest
    let completion: @Sendable (Result<HTTPResponse, TransportError>) -> Void
    var easy: UnsafeMutableRawPointer?
    var headerList: UnsafeMutablePointer<curl_slist>?
    var body: [UInt8] = []
    var headers: [(String, String)] = []
    var tooLarge = false
    var started = DispatchTime.now()
    private var bodyCopy: UnsafeMutableBufferPointer<CChar>?

    init(request: HTTPRequest, completion: @escaping @Sendable (Result<HTTPResponse, TransportError>) -> Void) {
        self.request = request
        self.completion = completion
    }

    deinit {
        if let easy { curl_easy_cleanup(easy) }
        curl_slist_free_all(headerList)
        bodyCopy?.deallocate()
    }

    /// Creates and configures the easy handle; nil on success.
    func prepare() -> TransportError? {
        guard let easy = curl_easy_init() else {
            return TransportError(code: -1, message: "curl_easy_init failed", timedOut: false)
        }
        self.easy = easy
        flowrun_easy_setopt_string(easy, CURLOPT_URL, request.url)
        flowrun_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        flowrun_easy_setopt_long(easy, CURLOPT_TIMEOUT_MS, request.timeoutMillis)
        flowrun_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, min(request.timeoutMillis, 10_000))
        flowrun_easy_setopt_long(easy, CURLOPT_FOLLOWLOCATION, request.followRedirects ? 1 : 0)
        flowrun_easy_setopt_long(easy, CURLOPT_MAXREDIRS, 10)
        flowrun_easy_setopt_string(easy, CURLOPT_ACCEPT_ENCODING, "")  // gzip, deflate, whatever libcurl supports
        flowrun_easy_setopt_string(easy, CURLOPT_USERAGENT, "flowrun/0.1")
        let method = request.method.uppercased()
        if method == "HEAD" {
            flowrun_easy_setopt_long(easy, CURLOPT_NOBODY, 1)
        } else if method != "GET" {
            flowrun_easy_setopt_string(easy, CURLOPT_CUSTOMREQUEST, method)
        }
        if let body = request.body {
            let copy = UnsafeMutableBufferPointer<CChar>.allocate(capacity: max(1, body.count))
            _ = body.withUnsafeBytes { copy.initialize(from: $0.bindMemory(to: CChar.self)) }
            bodyCopy = copy
            flowrun_easy_setopt_offset(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
            flowrun_easy_setopt_pointer(easy, CURLOPT_POSTFIELDS, copy.baseAddress)
        }
        for (name, value) in request.headers {
            headerList = curl_slist_append(headerList, "\(name): \(value)")
        }
        if request.body != nil, !request.headers.contains(where: { $0.0.lowercased() == "expect" }) {
            headerList = curl_slist_append(headerList, "Expect:")
        }
        if let headerList { flowrun_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, headerList) }
        let me = Unmanaged.passRetained(self).toOpaque()  // released when the transfer completes
        flowrun_easy_setopt_pointer(easy, CURLOPT_PRIVATE, me)
        flowrun_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, me)
        flowrun_easy_setopt_pointer(easy, CURLOPT_HEADERDATA, me)
        flowrun_easy_setopt_write(
            easy, CURLOPT_WRITEFUNCTION,
            { data, size, count, user in
                let transfer = Unmanaged<Transfer>.fromOpaque(user!).takeUnretainedValue()
                let n = size * count
                if transfer.body.count + n > transfer.request.maxResponseBytes {
                    transfer.tooLarge = true
                    return 0  // aborts the transfer
                }
                data.map { transfer.body.append(contentsOf: UnsafeRawBufferPointer(start: $0, count: n)) }
                return n
            })
        flowrun_easy_setopt_write(
            easy, CURLOPT_HEADERFUNCTION,
            { data, size, count, user in
                let transfer = Unmanaged<Transfer>.fromOpaque(user!).takeUnretainedValue()
                let n = size * count
                guard let data else { return n }
                switch HeaderLine(UnsafeRawBufferPointer(start: data, count: n)) {
                case .status:
                    transfer.headers.removeAll()  // a new response (after a redirect or 100-continue)
                case .field(let name, let value):
                    if let i = transfer.headers.firstIndex(where: { $0.0 == name }) {
                        transfer.headers[i].1 += ", " + value
                    } else {
                        transfer.headers.append((name, value))
                    }
                case .other: break
                }
                return n
            })
        started = DispatchTime.now()
        return nil
    }

    func complete(_ code: CURLcode) {
        let millis = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e6
        if tooLarge {
            finish(
                .failure(
                    TransportError(
                        code: Int(code.rawValue), timedOut: false,
                        message: "response larger than maxResponseBytes (\(request.maxResponseBytes) bytes)")))
            return
        }
        guard code == CURLE_OK else {
            let message = String(cString: curl_easy_strerror(code))
            finish(
                .failure(
                    TransportError(
                        code: Int(code.rawValue), message: message, timedOut: code == CURLE_OPERATION_TIMEDOUT)))
            return
        }
        var status = 0
        flowrun_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        finish(.success(HTTPResponse(statusCode: status, headers: headers, body: body, durationMillis: millis)))
    }

    func finish(_ result: Result<HTTPResponse, TransportError>) { completion(result) }
}

extension TransportError {
    init(code: Int, timedOut: Bool, message: String) {
        self.init(code: code, message: message, timedOut: timedOut)
    }
}
