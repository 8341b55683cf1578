import JSONRPC
import XCTest

final class FramingTests: XCTestCase {
    func testLineFramingSplitsMessagesAndSkipsBlankLines() throws {
        var p = FrameParser()
        p.append(Array("{\"a\":1}\n\n  \r\n{\"b\":".utf8))
        XCTAssertEqual(try p.next().map { String(decoding: $0, as: UTF8.self) }, "{\"a\":1}")
        XCTAssertEqual(p.framing, .lines)
        XCTAssertNil(try p.next(), "second message is incomplete")
        p.append(Array("2}\r\n".utf8))
        XCTAssertEqual(try p.next().map { String(decoding: $0, as: UTF8.self) }, "{\"b\":2}", "CR is stripped")
        XCTAssertNil(try p.next())
    }

    func testContentLengthFramingAcrossChunks() throws {
        let body = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\"}"
        let wire = Array(Framing.contentLength.frame(Array(body.utf8)) + Framing.contentLength.frame(Array("{}".utf8)))
        var p = FrameParser()
        // Feed one byte at a time: a frame must come out whole, exactly once.
        var out: [String] = []
        for byte in wire {
            p.append([byte])
            while let m = try p.next() { out.append(String(decoding: m, as: UTF8.self)) }
        }
        XCTAssertEqual(out, [body, "{}"])
        XCTAssertEqual(p.framing, .contentLength)
    }

    func testContentLengthHeaderIsCaseInsensitiveAndOtherHeadersAreIgnored() throws {
        var p = FrameParser()
        p.append(Array("content-length: 2\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{}".utf8))
        XCTAssertEqual(try p.next(), Array("{}".utf8))
    }

    func testBadHeadersAndOversizeFramesAreFatal() {
        var missing = FrameParser()
        missing.append(Array("Content-Type: x\r\n\r\n{}".utf8))
        XCTAssertThrowsError(try missing.next()) { XCTAssertTrue(($0 as! FrameError).fatal) }

        var notANumber = FrameParser()
        notANumber.append(Array("Content-Length: lots\r\n\r\n".utf8))
        XCTAssertThrowsError(try notANumber.next())

        var big = FrameParser(maximumFrameSize: 10)
        big.append(Array("Content-Length: 11\r\n\r\n".utf8))
        XCTAssertThrowsError(try big.next()) { XCTAssertTrue("\($0)".contains("exceeds the limit")) }

        var longLine = FrameParser(maximumFrameSize: 10)
        longLine.append(Array("{\"aaaaaaaaaaaaaaa\":1}".utf8))
        XCTAssertThrowsError(try longLine.next(), "an unterminated line past the limit")
    }
}

final class MessageTests: XCTestCase {
    private func json(_ s: String) throws -> JSONValue { try JSONDecoder().decode(JSONValue.self, from: Data(s.utf8)) }

    func testRequestsAndNotifications() throws {
        let request = try IncomingMessage.parse(json(#"{"jsonrpc":"2.0","id":"a","method":"m","params":{"x":1}}"#))
        XCTAssertEqual(request.id, .string("a"))
        XCTAssertFalse(request.isNotification)
        XCTAssertEqual(request.params?["x"], .number(1))
        XCTAssertTrue(try IncomingMessage.parse(json(#"{"jsonrpc":"2.0","method":"exit"}"#)).isNotification)
    }

    func testInvalidEnvelopesAreInvalidRequestWithTheIdWhenKnown() throws {
        for (text, id) in [(#"{"id":4,"method":"m"}"#, JSONValue.number(4)), (#"{"jsonrpc":"2.0","id":5}"#, .number(5)),
                           (#"{"jsonrpc":"2.0","id":6,"method":"m","params":3}"#, .number(6)), ("[1]", .null), (#""text""#, .null)] {
            let value = try json(text)
            let target: JSONValue
            if case .array(let items) = value { target = items[0] } else { target = value }
            XCTAssertThrowsError(try IncomingMessage.parse(target), text) {
                let error = $0 as! RPCError
                XCTAssertEqual(error.code, .invalidRequest, text)
                XCTAssertEqual(error.id ?? .null, id, text)
            }
        }
    }

    func testResponseEncodesExactlyOneOfResultAndError() throws {
        let ok = String(decoding: try JSONCoding.encoder.encode(Response(id: .number(1), result: .null)), as: UTF8.self)
        XCTAssertEqual(ok, #"{"id":1,"jsonrpc":"2.0","result":null}"#)
        let err = String(decoding: try JSONCoding.encoder.encode(Response(id: .null, error: ErrorObject(code: -32700, message: "m"))), as: UTF8.self)
        XCTAssertEqual(err, #"{"error":{"code":-32700,"message":"m"},"id":null,"jsonrpc":"2.0"}"#)
    }
}

final class ParamsTests: XCTestCase {
    struct Inner: Codable { var fraction: Double? }
    struct Sample: Codable {
        var name: String
        var epochs: Int?
        var forget: Inner?
        var settings: [String: Double]?
    }

    private func decode(_ s: String) throws -> Sample {
        try Params.decodeStrict(Sample.self, from: JSONDecoder().decode(JSONValue.self, from: Data(s.utf8)))
    }

    private func message(_ s: String) -> String {
        do { _ = try decode(s); return "no error" } catch let e as RPCError {
            XCTAssertEqual(e.code, .invalidParams)
            return e.message
        } catch { return "\(error)" }
    }

    func testErrorsNameTheField() {
        XCTAssertEqual(message("{}"), "missing parameter 'name'")
        XCTAssertEqual(message(#"{"name":"a","epochs":"five"}"#), "parameter 'epochs' must be an integer")
        XCTAssertEqual(message(#"{"name":"a","epoch":5}"#), "unknown parameter 'epoch'")
        XCTAssertEqual(message(#"{"name":"a","forget":{"fractoin":0.1}}"#), "unknown parameter 'forget.fractoin'")
        XCTAssertEqual(message(#"{"name":"a","forget":{"fraction":"x"}}"#), "parameter 'forget.fraction' must be a number")
        XCTAssertEqual(message("[1]"), "params must be an object with named fields, not an array")
    }

    func testValidParamsDecodeAndNullOptionalsAreAccepted() throws {
        let s = try decode(#"{"name":"a","epochs":null,"settings":{"lr":0.1},"forget":{"fraction":0.5}}"#)
        XCTAssertEqual(s.name, "a")
        XCTAssertNil(s.epochs)
        XCTAssertEqual(s.settings?["lr"], 0.1)
        XCTAssertEqual(s.forget?.fraction, 0.5)
    }
}
