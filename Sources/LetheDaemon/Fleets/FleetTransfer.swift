// fleet/export and fleet/import: a fleet's members leave one daemon as a bundle (outputs, optionally weights, and
// everything that identifies the fleet) and join the same fleet on another. Import re-derives the fleet's key from
// its own model and split and accepts a member only when the model's weights, the data's content, the split's
// indices, the recipe (or method and resolved hyperparameters), the shadows' halves and the Lethe version all
// agree, so a member trained from other data or another recipe cannot be mixed in. Members are keyed by seed: a
// member already held is counted once (a retried Ray task sends it again), and one whose bits differ is refused.
// Docs/ScaleOut.md describes the Ray path built on these two methods.
import Datasets
import Foundation
import JSONRPC
import LetheProtocol
import NeuralNet
import Tensor

/// The bundle's format name.
let fleetBundleFormat = "lethe-fleet"

extension Daemon {
    func fleetExport(_ p: FleetExport.Params) throws -> FleetBundle {
        guard let fleet = fleets.all.first(where: { $0.id == p.id }) else { throw RPCError.notFound("fleet", p.id) }
        let held = fleet.members
        var chosen = held
        if let wanted = p.members {
            let bySeed = Dictionary(uniqueKeysWithValues: held.map { ($0.seed, $0) })
            guard Set(wanted).count == wanted.count else { throw RPCError.invalidParams("parameter 'members' names a member twice") }
            chosen = try wanted.sorted().map { seed in
                guard let m = bySeed[seed] else {
                    throw RPCError.invalidParams("parameter 'members': \(fleet.id) holds no member \(seed); it holds \(Self.seedList(held.map(\.seed)))")
                }
                return m
            }
        }
        let weights = p.weights ?? false
        if weights, !fleet.keepsWeights {
            throw RPCError.invalidParams("parameter 'weights': \(fleet.id) keeps only its members' outputs; train it with keepWeights to export weights")
        }
        let key = fleet.key
        return FleetBundle(
            format: fleetBundleFormat, version: Self.version, kind: key.kind.rawValue, modelFingerprint: key.modelFingerprint,
            dataFingerprint: fleet.dataFingerprint, splitFingerprint: FNV1a.hex(key.splitFingerprint), recipe: key.recipe,
            method: fleet.method, hyperparameters: fleet.hyperparameters, shadowCount: key.shadowCount, shadowSeed: key.shadowSeed,
            examples: fleet.examples.count, classes: fleet.classCount,
            members: chosen.map { m in
                FleetBundle.Member(
                    seed: m.seed, logits: Self.base64(m.logits), inMask: m.inMask.map { String($0.map { $0 ? "1" : "0" }) },
                    retainAccuracy: m.retainAccuracy, seconds: m.seconds,
                    fingerprint: weights ? m.model?.fingerprint : nil,
                    parameters: weights ? m.model.map { Self.base64(UnsafeBufferPointer(start: $0.parameters, count: $0.parameterCount)) } : nil,
                    buffers: weights ? m.model.map { Self.base64(UnsafeBufferPointer(start: $0.buffers, count: $0.bufferCount)) } : nil)
            })
    }

    func fleetImport(_ p: FleetImport.Params) async throws -> FleetImport.Result {
        let b = p.bundle
        guard b.format == fleetBundleFormat else {
            throw RPCError.invalidParams("parameter 'bundle.format' must be \"\(fleetBundleFormat)\" (what fleet/export returns), got \"\(b.format)\"")
        }
        guard b.version == Self.version else {
            throw RPCError.invalidParams("parameter 'bundle.version': the members were trained by Lethe \(b.version) and this daemon is Lethe \(Self.version); a member's bits depend on the engine, so every node must run the same version")
        }
        guard let kind = FleetKind(rawValue: b.kind) else {
            throw RPCError.invalidParams("parameter 'bundle.kind': unknown fleet kind '\(b.kind)'; known: \(FleetTrain.kinds.joined(separator: ", "))")
        }
        guard !b.members.isEmpty else { throw RPCError.invalidParams("parameter 'bundle.members' is empty: nothing to import") }
        let seeds = b.members.map(\.seed)
        guard Set(seeds).count == seeds.count else { throw RPCError.invalidParams("parameter 'bundle.members' holds a member twice") }
        // What identifies the fleet, checked against this daemon's objects before any fleet is touched.
        let source = try await workspace.model(p.model)
        guard source.model.fingerprint == b.modelFingerprint else {
            throw RPCError.invalidParams("parameter 'bundle.modelFingerprint': the members were built from weights \(b.modelFingerprint) but model '\(p.model)' here has weights \(source.model.fingerprint); load the same model file on both daemons")
        }
        let splitEntry = try await workspace.split(p.split)
        guard splitEntry.data.fingerprint == b.dataFingerprint else {
            throw RPCError.invalidParams("parameter 'bundle.dataFingerprint': the members were trained on data \(b.dataFingerprint) but split '\(p.split)' here is drawn from data \(splitEntry.data.fingerprint); load the same dataset files on both daemons")
        }
        guard splitEntry.split.fingerprintHex == b.splitFingerprint else {
            throw RPCError.invalidParams("parameter 'bundle.splitFingerprint': the members were trained on split \(b.splitFingerprint) but split '\(p.split)' here is \(splitEntry.split.fingerprintHex); create it with the same split/create params (dataset, forget, validationFraction, seed)")
        }
        let count: Int, seed: UInt64
        if kind == .shadow {
            guard let k = b.shadowCount, let s = b.shadowSeed else {
                throw RPCError.invalidParams("parameter 'bundle': a shadow bundle needs shadowCount and shadowSeed")
            }
            (count, seed) = (k, s)
        } else {
            let low = seeds.min()!, high = seeds.max()!
            guard high - low < 4096 else { throw RPCError.invalidParams("parameter 'bundle.members': seeds \(low)…\(high) span more than 4096") }
            (count, seed) = (Int(high - low) + 1, low)
        }
        let withWeights = b.members.allSatisfy { $0.parameters != nil }
        if !withWeights, b.members.contains(where: { $0.parameters != nil }) {
            throw RPCError.invalidParams("parameter 'bundle.members': some members carry weights and some do not; export them together")
        }
        let plan = try await planFleet(kind: kind, modelName: p.model, splitName: p.split, count: count, seed: seed, method: b.method,
                                       hyperparameters: b.hyperparameters, keepWeights: withWeights, threadsPerModel: nil, only: seeds,
                                       countField: kind == .shadow ? "shadowCount" : "members", prefix: "bundle.")
        let fleet = plan.fleet
        do {
            let members = try checkedMembers(b, plan: plan, withWeights: withWeights)
            var imported = 0, duplicates = 0
            for member in members {
                if fleet.add(member) { imported += 1; continue }
                guard let held = fleet.member(member.seed), Self.sameBits(held.logits, member.logits) else {
                    throw RPCError.invalidParams("parameter 'bundle.members': member \(member.seed) differs from the one \(fleet.id) holds; were they trained with other threads per member or another build?")
                }
                duplicates += 1
            }
            return .init(fleet: Self.summary(fleet), imported: imported, duplicates: duplicates)
        } catch {
            if fleet.members.isEmpty { _ = fleets.remove(id: fleet.id) }  // leave no empty fleet behind a refused bundle
            throw error
        }
    }

    /// Decodes and checks every member before any joins the fleet (a refused bundle adds nothing).
    private func checkedMembers(_ b: FleetBundle, plan: FleetPlan, withWeights: Bool) throws -> [FleetMember] {
        let fleet = plan.fleet, key = fleet.key
        guard key.recipe == b.recipe else {
            throw RPCError.invalidParams("parameter 'bundle.recipe': the members were trained with \(b.recipe) but the fleet here trains with \(key.recipe)")
        }
        guard b.examples == fleet.examples.count, b.classes == fleet.classCount else {
            throw RPCError.invalidParams("parameter 'bundle': members cover \(b.examples) examples of \(b.classes) classes but the fleet here covers \(fleet.examples.count) of \(fleet.classCount)")
        }
        let expectedMasks = plan.kind == .shadow ? shadowHalves(plan, data: plan.splitEntry.data, examples: fleet.examples).1 : []
        return try b.members.map { m in
            let field = "bundle.members[seed \(m.seed)]"
            guard let logits = Self.floats(m.logits), logits.count == b.examples * b.classes else {
                throw RPCError.invalidParams("parameter '\(field).logits' must be base64 of \(b.examples * b.classes) float32 values")
            }
            var inMask: [Bool]?
            if plan.kind == .shadow {
                let expected = expectedMasks[Int(m.seed)]
                guard let text = m.inMask, text.count == expected.count, text.allSatisfy({ $0 == "0" || $0 == "1" }) else {
                    throw RPCError.invalidParams("parameter '\(field).inMask' must be \(expected.count) characters of 0 and 1")
                }
                let mask = text.map { $0 == "1" }
                guard mask == expected else {
                    throw RPCError.invalidParams("parameter '\(field).inMask': the member was trained on other halves than shadow \(m.seed) of \(plan.shadowCount) with seed \(plan.shadowSeed) takes here")
                }
                inMask = mask
            } else {
                guard let accuracy = m.retainAccuracy, (0...1).contains(accuracy) else {
                    throw RPCError.invalidParams("parameter '\(field).retainAccuracy' must be a number in [0, 1]")
                }
            }
            var model: Model?
            if withWeights {
                let shape = plan.source.model
                let fresh = try Model(architecture: shape.architecture, inputShape: shape.inputShape, classCount: shape.classCount)
                guard let parameters = Self.floats(m.parameters ?? ""), parameters.count == fresh.parameterCount,
                      let buffers = Self.floats(m.buffers ?? ""), buffers.count == fresh.bufferCount else {
                    throw RPCError.invalidParams("parameter '\(field)': weights must be base64 of \(fresh.parameterCount) parameters and \(fresh.bufferCount) buffers")
                }
                parameters.withUnsafeBufferPointer { fresh.parameters.update(from: $0.baseAddress!, count: $0.count) }
                buffers.withUnsafeBufferPointer { if let base = $0.baseAddress { fresh.buffers.update(from: base, count: $0.count) } }
                guard fresh.fingerprint == m.fingerprint else {
                    throw RPCError.invalidParams("parameter '\(field).fingerprint': the weights have fingerprint \(fresh.fingerprint), not \(m.fingerprint ?? "none")")
                }
                model = fresh
            }
            return FleetMember(seed: m.seed, logits: logits, inMask: inMask, retainAccuracy: plan.kind == .shadow ? nil : m.retainAccuracy,
                               model: model, seconds: m.seconds)
        }
    }

    /// Float32 values as little-endian bytes in base64.
    static func base64<C: Collection>(_ values: C) -> String where C.Element == Float {
        var bytes = [UInt8]()
        bytes.reserveCapacity(values.count * 4)
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        return Data(bytes).base64EncodedString()
    }

    /// The float32 values of base64 little-endian bytes; nil when the text is not base64 of whole floats.
    static func floats(_ text: String) -> [Float]? {
        guard let data = Data(base64Encoded: text), data.count % 4 == 0 else { return nil }
        return data.withUnsafeBytes { raw in
            (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
    }

    static func sameBits(_ a: [Float], _ b: [Float]) -> Bool { a.count == b.count && zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern } }

    /// Seeds for a message: "0, 1, 2" or "0…511".
    static func seedList(_ seeds: [UInt64]) -> String {
        guard let first = seeds.first, let last = seeds.last else { return "none" }
        return seeds.count > 2 && last - first == UInt64(seeds.count - 1) ? "\(first)…\(last)" : seeds.map(String.init).joined(separator: ", ")
    }
}
