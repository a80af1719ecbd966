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
        let sat = UInt64(GapArray.saturated)

        // Positions: the anchor at 0, each entry where its handle says, nothing past `end`, the words of empty
        // positions 0; every summary and lowest pfn_lo as computed from the positions below it.
        var inOrder: [(index: UInt32, word: UInt32)] = []
        var seen = Set<UInt32>()
        if tree.ids[0] != NodePool.anchor || !tree.occupied(0) || tree.words[0] != 0 { fail("position 0 is not the anchor's") }
        let end = Int(tree.end)
        if end < 1 || tree.end > tree.highWater { fail("end \(end), high water \(tree.highWater)") }
        var lastOccupied = 0
        let span = Int(tree.highWater) + 64
        for s in 1..<span {
            let i = tree.ids[s], w = tree.words[s]
            if !tree.occupied(UInt32(s)) {
                if i != 0 || w != 0 { fail("empty position \(s) holds \(i), word \(Kernel.hex(w))") }
                continue
            }
            if s >= end { fail("position \(s) is occupied past end \(end)") }
            lastOccupied = s
            guard i > NodePool.anchor, i < tree.pool.nextFresh, seen.insert(i).inserted else {
                fail("position \(s): bad or repeated handle \(i)")
                continue
            }
            if tree.position(i) != UInt32(s) { fail("handle \(i) at position \(s) records \(tree.position(i))") }
            if w & GapArray.present == 0 { fail("position \(s): word \(Kernel.hex(w)) without the present bit") }
            inOrder.append((i, w))
        }
        if !tree.sweeping && lastOccupied + 1 != end && !(lastOccupied == 0 && end == 1) {
            fail("end \(end), the last occupied position is \(lastOccupied)")
        }
        if tree.sweeping {
            var t = tree.sweepWrite
            while t < tree.sweepRead {
                if tree.occupied(t) { fail("the sweep's empty run holds position \(t)") }
                t += 1
            }
        }
        if tree.top < 1 || tree.top >= GapArray.levels || tree.end > GapArray.span(tree.top) {
            fail("top level \(tree.top) for end \(end)")
        }
        // Each level's ~lowest pfn_lo is a bound: at least ~(the lowest pfn_lo below it).
        var exact: [UInt64] = []                  // level k-1's exact values, by index
        for k in 1...max(1, min(tree.top, GapArray.levels - 1)) {
            let blocks = (span >> (4 * k)) + 1
            var next = [UInt64](repeating: 0, count: blocks)
            for b in 0..<blocks {
                var w: UInt32 = 0
                var notLo: UInt64 = 0
                for c in 0..<16 {
                    w = GapArray.combine(w, tree.wordLevels[k - 1][b * 16 + c])
                    if k > 1 && b * 16 + c < exact.count { notLo = max(notLo, exact[b * 16 + c]) }
                }
                if k == 1 {
                    for c in 0..<16 where tree.occupied(UInt32(b * 16 + c)) && b * 16 + c > 0 {
                        notLo = max(notLo, ~lo(tree.ids[b * 16 + c]))
                    }
                }
                next[b] = notLo
                if tree.wordLevels[k][b] != w {
                    fail("level \(k) block \(b): summary \(Kernel.hex(tree.wordLevels[k][b])), expected \(Kernel.hex(w))")
                }
                if tree.notLoLevels[k][b] < notLo {
                    fail("level \(k) block \(b): lowest pfn_lo bound \(Kernel.hex(~tree.notLoLevels[k][b])) is above "
                         + "the lowest pfn_lo \(Kernel.hex(~notLo))")
                }
            }
            exact = next
        }
        inOrder.reverse()

        // In order: states, ranges, order and no overlap, the stored gap and fit bits.
        var predHi: UInt64? = nil
        var cachedNodes = 0
        for (y, w) in inOrder {
            let s = tree.pool.state(y)
            if s == NodeState.cached { cachedNodes += 1 }
            if s != NodeState.allocated && s != NodeState.cached { fail("node \(y): state \(s) in the tree") }
            let l = lo(y), h = hi(y)
            if l > h { fail("node [\(l), \(h)]: pfn_lo above pfn_hi") }
            if let p = predHi, p >= l { fail("nodes overlap or are out of order at pfn \(l) (previous ends at \(p))") }
            let trueGap = predHi.map { l &- $0 &- 1 } ?? l
            let g = min(trueGap, sat)
            if UInt64(w & GapArray.saturated) != g {
                fail("node [\(l), \(h)]: stored gap \(w & GapArray.saturated), true gap \(g)")
            }
            let bits = GapArray.fitBits(lo: l, gap: trueGap)
            if w >> 20 != bits { fail("node [\(l), \(h)]: fit bits \(w >> 20), expected \(bits)") }
            predHi = h
        }
        if inOrder.count != tree.count { fail("tree: \(inOrder.count) nodes, count says \(tree.count)") }
        if tree.pool.live != tree.count { fail("pool: \(tree.pool.live) live handles, the index holds \(tree.count)") }
        let a = tree.node(NodePool.anchor)
        if a.pointee.pfn_lo != ~0 || a.pointee.pfn_hi != ~0 { fail("the anchor moved") }

        // The nodes a reservation lowered are in the tree, below the pfn they were allocated with.
        for (i, start) in lowered {
            if !seen.contains(i) {
                fail("lowered node \(i) is not in the tree")
            } else if start <= lo(i) || start > hi(i) {
                fail("lowered node [\(lo(i)), \(hi(i))]: allocated at \(start)")
            }
        }

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
                if tree.pool.state(i) != NodeState.cached { fail("\(where_): node \(pfn) is not marked cached") }
                // A node a reservation lowered keeps the pfn it was allocated with (`lowered`).
                let start = lowered[i] ?? lo(i)
                if start != pfn || hi(i) &- start &+ 1 != 1 &<< UInt64(c) {
                    fail("\(where_): entry \(pfn) class \(c) vs node [\(lo(i)), \(hi(i))]")
                }
            }
            if m.size < 0 || m.size > Magazine.capacity { fail("\(where_): size \(m.size)") }
        }
        // Threads may be in fast calls: their magazines are read with their slots held (the check is only
        // meaningful while none allocates or frees, but it never reads a magazine being changed or freed).
        withSlotsHeld { cpu, s in
            for c in 0..<RangeCache.sizeClasses {
                checkMagazine(s.loaded(c), c, "cpu \(cpu) class \(c) loaded")
                checkMagazine(s.previous(c), c, "cpu \(cpu) class \(c) prev")
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
