// The allocator's internal invariants, checked in full: tests run this after every operation.
import CKernel
import SwiommuBase

extension IOVADomain {
    /// Every broken invariant, described; empty when the domain is consistent. Call it while no other thread is in
    /// a fast call (cached ranges are counted against the node states). Linear in the domain's size.
    public func checkInvariants() -> [String] {
        lock()
        defer { unlock() }
        var problems: [String] = []
        func fail(_ s: String) { if problems.count < 20 { problems.append(s) } }
        let sat = UInt64(GapTree.saturated)

        // In order: states, ranges, order and no overlap, the stored gap.
        var inOrder: [UInt32] = []
        var stack: [UInt32] = []
        var seen = Set<UInt32>()
        var x = tree.root
        while x != NodePool.none || !stack.isEmpty {
            while x != NodePool.none {
                guard x <= NodePool.maxIndex, x != NodePool.anchor, seen.insert(x).inserted,
                      stack.count < GapTree.maxDepth else {
                    fail("tree: bad or repeated node index \(x)")
                    return problems
                }
                stack.append(x)
                x = tree.left(x)
            }
            let y = stack.removeLast()
            inOrder.append(y)
            x = tree.right(y)
        }
        var predHi: UInt64? = nil
        var cachedNodes = 0
        for y in inOrder {
            let s = tree.node(y).pointee.node.state
            if s == NodeState.cached { cachedNodes += 1 }
            if s != NodeState.allocated && s != NodeState.cached { fail("node \(y): state \(s) in the tree") }
            let l = lo(y), h = hi(y)
            if l > h { fail("node [\(l), \(h)]: pfn_lo above pfn_hi") }
            if let p = predHi, p >= l { fail("nodes overlap or are out of order at pfn \(l) (previous ends at \(p))") }
            let trueGap = GapTree.gapValue(lo: l, predHi: predHi)
            let g = min(trueGap, sat)
            if UInt64(tree.gap(y)) != g { fail("node [\(l), \(h)]: stored gap \(tree.gap(y)), true gap \(g)") }
            let bits = GapTree.fitBits(lo: l, gap: trueGap)
            if tree.ownFit(y) != bits { fail("node [\(l), \(h)]: fit bits \(tree.ownFit(y)), expected \(bits)") }
            predHi = h
        }
        if inOrder.count != tree.count { fail("tree: \(inOrder.count) nodes, count says \(tree.count)") }
        if tree.pool.live != tree.count { fail("pool: \(tree.pool.live) live slots, tree holds \(tree.count)") }

        // Structure: AVL balance and the max_gap augmentation.
        func verify(_ x: UInt32) -> Int {
            if x == NodePool.none { return 0 }
            let hl = verify(tree.left(x)), hr = verify(tree.right(x))
            if hr - hl != tree.balance(x) || abs(hr - hl) > 1 {
                fail("node [\(lo(x)), \(hi(x))]: heights \(hl)/\(hr), balance \(tree.balance(x))")
            }
            let m = GapTree.combine(tree.gap(x) | tree.ownFit(x) << 20,
                                    GapTree.combine(tree.summary(tree.left(x)), tree.summary(tree.right(x))))
            if tree.summary(x) != m {
                fail("node [\(lo(x)), \(hi(x))]: summary \(Kernel.hex(tree.summary(x))), expected \(Kernel.hex(m))")
            }
            return 1 + max(hl, hr)
        }
        _ = verify(tree.root)
        if tree.maxGap(NodePool.none) != 0 { fail("slot 0 was written") }
        let a = tree.node(NodePool.anchor)
        if a.pointee.pfn_lo != ~0 || a.pointee.pfn_hi != ~0 { fail("the anchor moved") }

        // The cached nodes are the anchor or nodes of the tree.
        for (name, c) in [("cached_node", cachedNode), ("cached32_node", cached32Node)] where c != NodePool.anchor {
            if !seen.contains(c) { fail("\(name) \(c) is not in the tree") }
        }

        // The rcaches: each entry is a cached node of its size class, held once; nothing else is cached.
        var entries = 0
        var held = Set<UInt32>()
        func checkMagazine(_ m: Magazine, _ c: Int, _ where_: String) {
            for k in 0..<m.size {
                let i = m.indices[k], pfn = m.pfns[k]
                entries += 1
                guard seen.contains(i) else { fail("\(where_): entry \(pfn) names node \(i), not in the tree"); continue }
                if !held.insert(i).inserted { fail("\(where_): node [\(lo(i)), \(hi(i))] cached twice") }
                if tree.node(i).pointee.node.state != NodeState.cached { fail("\(where_): node \(pfn) is not marked cached") }
                if lo(i) != pfn || hi(i) &- lo(i) &+ 1 != 1 &<< UInt64(c) {
                    fail("\(where_): entry \(pfn) class \(c) vs node [\(lo(i)), \(hi(i))]")
                }
            }
            if m.size < 0 || m.size > Magazine.capacity { fail("\(where_): size \(m.size)") }
        }
        if let slots = rangeCache.slots {
            for cpu in 0..<ThreadCPU.maxCPUs {
                guard let raw = slots[cpu] else { continue }
                let s = Slot(raw)
                for c in 0..<RangeCache.sizeClasses {
                    checkMagazine(s.loaded(c), c, "cpu \(cpu) class \(c) loaded")
                    checkMagazine(s.previous(c), c, "cpu \(cpu) class \(c) prev")
                }
            }
        }
        if let depots = rangeCache.depots {
            for c in 0..<RangeCache.sizeClasses {
                var n = 0
                var h = depots[c].head
                while let m = h {
                    if !Magazine(m).isFull { fail("depot \(c): a magazine that is not full") }
                    checkMagazine(Magazine(m), c, "depot \(c)")
                    n += 1
                    h = Magazine(m).next
                }
                if n != depots[c].size { fail("depot \(c): \(n) magazines, depot_size \(depots[c].size)") }
            }
        }
        if entries != cachedNodes { fail("rcaches hold \(entries) ranges, the tree has \(cachedNodes) cached nodes") }
        return problems
    }
}
