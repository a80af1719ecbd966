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

        // Structure: every leaf at one depth, entries and children packed at the front, node fill, each child's
        // smallest pfn_lo and summary; every index node reached once.
        var inOrder: [(index: UInt32, word: UInt32)] = []
        var seen = Set<UInt32>()
        var nodesSeen = Set<UInt32>()
        let leafLevel = tree.levels - 1
        if tree.levels < 1 || tree.levels > GapTree.maxLevels { fail("tree: \(tree.levels) levels") }
        if tree.count == 0 && tree.levels != 1 { fail("tree: empty with \(tree.levels) levels") }
        /// Returns the subtree's summary and smallest pfn_lo (nil for an empty root).
        func verify(_ n: UInt32, _ level: Int, first: Bool, last: Bool) -> (UInt32, UInt64?) {
            guard n != 0, n < tree.pool.indexNodes.nextFresh, nodesSeen.insert(n).inserted else {
                fail("tree: bad or repeated index node \(n) at level \(level)")
                return (0, nil)
            }
            let isRoot = level == 0
            if level == leafLevel {
                var used = 0
                var s: UInt32 = 0
                var firstIndex: UInt32 = 0
                for j in 0..<GapTree.leafCapacity {
                    let i = tree.leafIndex(n, j), w = tree.leafWord(n, j)
                    if i == 0 {
                        if w != 0 { fail("leaf \(n): empty slot \(j) has the word \(Kernel.hex(w))") }
                        continue
                    }
                    guard i <= NodePool.maxIndex, i != NodePool.anchor, i < tree.pool.nextFresh,
                          seen.insert(i).inserted else {
                        fail("leaf \(n): bad or repeated node index \(i)")
                        continue
                    }
                    if firstIndex == 0 { firstIndex = i }
                    used += 1
                    s = GapTree.combine(s, w)
                    inOrder.append((i, w))
                }
                if tree.leafSummary(n) != s {
                    fail("leaf \(n): summary \(Kernel.hex(tree.leafSummary(n))), expected \(Kernel.hex(s))")
                }
                let minimum = isRoot || first || last ? (isRoot ? 0 : 1) : GapTree.leafMinimum
                if used < minimum { fail("leaf \(n) at level \(level): \(used) entries, fewer than \(minimum)") }
                if used != tree.leafCount(n) { fail("leaf \(n): \(used) entries, leafCount says \(tree.leafCount(n))") }
                return (s, firstIndex == 0 ? nil : Optional(lo(firstIndex)))
            }
            var used = 0
            var s: UInt32 = 0
            var smallest: UInt64? = nil
            var emptyBefore = false
            var previousKey: UInt64? = nil
            for c in 0..<GapTree.innerCapacity {
                let ref = tree.childRef(n, c)
                if tree.childKey(n, c) == GapTree.emptyKey {
                    if ref != 0 || tree.childSummary(n, c) != 0 { fail("node \(n): cell \(c) is not clear") }
                    emptyBefore = true
                    continue
                }
                if emptyBefore { fail("node \(n): child \(c) after an empty cell") }
                used += 1
                let count = tree.innerCount(n)
                let (cs, cmin) = verify(ref, level + 1, first: first && c == 0, last: last && c == count - 1)
                if tree.childSummary(n, c) != cs {
                    fail("node \(n) child \(c): summary \(Kernel.hex(tree.childSummary(n, c))), "
                         + "expected \(Kernel.hex(cs))")
                }
                if let cmin, tree.childKey(n, c) != cmin {
                    fail("node \(n) child \(c): smallest pfn_lo \(Kernel.hex(tree.childKey(n, c))), "
                         + "expected \(Kernel.hex(cmin))")
                }
                if cmin == nil { fail("node \(n) child \(c): an empty subtree") }
                if let p = previousKey, p >= tree.childKey(n, c) { fail("node \(n) child \(c): keys out of order") }
                previousKey = tree.childKey(n, c)
                if smallest == nil { smallest = cmin }
                s = GapTree.combine(s, cs)
            }
            let minimum = isRoot ? 2 : first || last ? 1 : GapTree.innerMinimum
            if used < minimum { fail("node \(n) at level \(level): \(used) children, fewer than \(minimum)") }
            return (s, smallest)
        }
        _ = verify(tree.root, 0, first: true, last: true)
        if nodesSeen.count != tree.pool.indexNodes.live {
            fail("tree: \(nodesSeen.count) index nodes reached, the pool has \(tree.pool.indexNodes.live) in use")
        }
        var freeNodes = 0
        var f = tree.pool.indexNodes.freeHead
        while f != 0 && freeNodes <= Int(tree.pool.indexNodes.nextFresh) {
            if nodesSeen.contains(f) { fail("index node \(f) is in the tree and on the free list") }
            freeNodes += 1
            f = UInt32(truncatingIfNeeded: tree.pool.cell(f, 0).load(as: UInt64.self))
        }
        if freeNodes != tree.pool.indexNodes.freeCount {
            fail("index nodes: \(freeNodes) free, the count says \(tree.pool.indexNodes.freeCount)")
        }
        if freeNodes + tree.pool.indexNodes.live != Int(tree.pool.indexNodes.nextFresh) - 1 {
            fail("index nodes: \(freeNodes) free + \(tree.pool.indexNodes.live) live, "
                 + "\(tree.pool.indexNodes.nextFresh - 1) made")
        }

        // In order: states, ranges, order and no overlap, the stored gap and fit bits.
        var predHi: UInt64? = nil
        var cachedNodes = 0
        for (y, w) in inOrder {
            let s = tree.node(y).pointee.node.state
            if s == NodeState.cached { cachedNodes += 1 }
            if s != NodeState.allocated && s != NodeState.cached { fail("node \(y): state \(s) in the tree") }
            let l = lo(y), h = hi(y)
            if l > h { fail("node [\(l), \(h)]: pfn_lo above pfn_hi") }
            if let p = predHi, p >= l { fail("nodes overlap or are out of order at pfn \(l) (previous ends at \(p))") }
            let trueGap = GapTree.gapValue(lo: l, predHi: predHi)
            let g = min(trueGap, sat)
            if UInt64(w & GapTree.saturated) != g {
                fail("node [\(l), \(h)]: stored gap \(w & GapTree.saturated), true gap \(g)")
            }
            let bits = GapTree.fitBits(lo: l, gap: trueGap)
            if w >> 20 != bits { fail("node [\(l), \(h)]: fit bits \(w >> 20), expected \(bits)") }
            predHi = h
        }
        if inOrder.count != tree.count { fail("tree: \(inOrder.count) nodes, count says \(tree.count)") }
        if tree.pool.live != tree.count { fail("pool: \(tree.pool.live) live slots, tree holds \(tree.count)") }
        for c in 0..<NodePool.cellsPerNode where tree.pool.cell(0, c).load(as: UInt64.self) != 0 {
            fail("index node 0 was written")
        }
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
                if tree.node(i).pointee.node.state != NodeState.cached { fail("\(where_): node \(pfn) is not marked cached") }
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
