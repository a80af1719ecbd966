// The allocations of a domain in a B-tree ordered by pfn_lo whose nodes live in the private bytes of the
// `struct iova` slots (`NodePool`), augmented per child with the largest free gap below an allocation in that subtree
// and which size-aligned requests of up to 64 granules some gap can hold, so that "the highest allocation at or
// below X whose gap can take this request" visits O(log n) nodes of a few cache lines each, instead of the
// kernel's walk over every node in between.
import CKernel

/// A B-tree of allocations (handle indices) with gap augmentation. Kernel: the `rbroot` rbtree of
/// `struct iova_domain`, with `rb_prev`/`rb_next`, `iova_insert_rbtree`, `rb_erase`, `private_find_iova`.
///
/// Nodes are `NodePool.cellsPerNode` (8) cells of 120 bits. Every leaf is at the same depth (`levels - 1`).
/// - A leaf has 16 slots, two per cell, in ascending order of pfn_lo with empty slots (holes) anywhere between:
///   a removal empties its slot, an insertion takes a hole next to its place or moves the few entries up to the
///   nearest one. Slot 2c+k of cell c: its gap word at bits 32k ..< 32k + 32 (0 when empty), its handle index at
///   bits 64 + 27k ..< 91 + 27k (0: empty). Keys are not stored: an allocation's pfn_lo is read from its
///   `struct iova`, which only lookups by pfn need.
/// - A gap word: bits 0-19 the free granules between an allocation and the one below it (for the lowest, its
///   pfn_lo: the granules from 0), saturated; bits 20-31 the gap's fit bits. A summary word (of a subtree) has
///   the largest gap and the OR of the fit bits.
/// - An inner node holds up to 8 children, one per cell, packed at the front: bits 0-63 the smallest pfn_lo in
///   the child's subtree, bits 64-87 the child's node number, bits 88-119 the child's summary. An empty cell has
///   the key ~0 (no allocation starts at the anchor's pfn) and nothing else, so that a descent counts the keys at
///   most the one it looks for without asking which cells are in use.
///
/// Fit bits: for a gap of free granules [a, b) and k in 1...6, let u = b - (a rounded up to a multiple of 2^k),
/// the run that starts at the lowest 2^k-aligned pfn. Bit k-1 ("half") is set when u > 2^(k-1), bit 5+k
/// ("full") when u >= 2^k. A request of s granules aligned to 2^k (2^(k-1) < s <= 2^k) fits the gap exactly when
/// u >= s; so "full" decides it for s = 2^k and "half" is necessary for the rest. Both are ORed up the tree.
/// Gaps of 2^20 - 1 granules or more (4 GiB with 4 KiB granules) are stored saturated, with every fit bit set.
///
/// Shape: a node other than the root holds at least half its capacity, except the leftmost and rightmost node of
/// each level, which hold at least one: an insertion at the very front or end of the tree splits a full node
/// into a full one and one holding the new entry, so that the top-down allocation pattern (each allocation below
/// the last) and the bottom-up one leave full nodes. A leaf takes 8 cells for 8 to 16 allocations and the inner
/// nodes a seventh of that, so the tree needs at most about 1.2 cells per allocation at the worst fill and 0.6
/// to 0.8 at the usual ones: with one cell in each allocation's slot, the pool rarely grows for the tree alone.
///
/// What a search costs: O(log n) node visits to the first allocation whose gap takes the request. The exceptions
/// (the part that is not logarithmic) are subtrees whose summary admits a request that none of their gaps takes,
/// each costing one more descent: a size-aligned request that is not a power of two and is above 2^(k-1) + 1 for
/// its alignment 2^k (e.g. 6 aligned to 8) meeting gaps that hold more than 2^(k-1) but fewer than s granules from
/// an aligned start; a size-aligned request of more than 64 granules meeting gaps long enough but with no aligned
/// start for it; a request of 2^20 granules or more, checked against each saturated gap.
///
/// A cursor is a path in `pathNode`/`pathPos`: the node at each level, the child taken at each inner level, and a
/// slot in the leaf. Lookups that must not disturb the main cursor use the second path (`auxNode`, `auxPos`).
/// Callers hold the domain's lock, except `findLockFree`.
struct GapTree {
    static let saturated: UInt32 = 0xf_ffff
    static let fitClasses = 6
    static let allFitBits: UInt32 = 0xfff
    static let cells = NodePool.cellsPerNode
    static let leafCapacity = 2 * NodePool.cellsPerNode
    static let innerCapacity = NodePool.cellsPerNode
    static let leafMinimum = leafCapacity / 2
    static let innerMinimum = innerCapacity / 2
    /// 2^27 entries need at most 1 + log2(2^27 / 8) / log2(4) levels (half-full nodes; the edge nodes add one).
    static let maxLevels = 16
    static let indexMask: UInt64 = 0x07ff_ffff
    static let refMask: UInt32 = 0x00ff_ffff
    static let emptyKey: UInt64 = ~0
    static let highWords: UInt64 = 0xffff_ffff_0000_0000

    var pool: NodePool
    var root: UInt32
    /// Levels of the tree: 1 when the root is a leaf.
    var levels = 1
    var count = 0
    let pathNode: UnsafeMutablePointer<UInt32> = .allocate(capacity: GapTree.maxLevels)
    let pathPos: UnsafeMutablePointer<Int> = .allocate(capacity: GapTree.maxLevels)
    /// Whether the main path still leads from the root to a leaf (no node on it split, merged or went away since
    /// it was set): `locate(_:nearby:)` then looks in that leaf before descending, which spares most allocations
    /// the descent to the cached node (the node just inserted, or the successor of the one just freed).
    let pathCurrent: UnsafeMutablePointer<Bool> = .allocate(capacity: 1)
    let auxNode: UnsafeMutablePointer<UInt32> = .allocate(capacity: GapTree.maxLevels)
    let auxPos: UnsafeMutablePointer<Int> = .allocate(capacity: GapTree.maxLevels)
    /// The path to the leaf of the last insertion (the allocation the kernel's cached node usually names), valid
    /// while `shape` is what it was then (`hintShape`). `shape` counts the changes that move nodes: splits,
    /// merges, refills, a new or a lost root.
    let hintNode: UnsafeMutablePointer<UInt32> = .allocate(capacity: GapTree.maxLevels)
    let hintPos: UnsafeMutablePointer<Int> = .allocate(capacity: GapTree.maxLevels)
    var shape = 0
    var hintShape = -1
    /// Scratch for the entries of two leaves (one of them overflowing; an entry there is its handle index, its gap
    /// word in bits 32-63), or the cells of two inner nodes.
    let entries: UnsafeMutablePointer<UInt64> = .allocate(capacity: 2 * GapTree.leafCapacity + 2)
    let entries2: UnsafeMutablePointer<UInt64> = .allocate(capacity: 2 * GapTree.leafCapacity + 2)
    /// `GapTree.fitTable`, copied.
    let fitTable: UnsafePointer<UInt16> = GapTree.fitTable

    init?() {
        guard var p = NodePool(), let r = p.allocateIndexNode() else { return nil }
        pool = p
        root = r
        pathCurrent.initialize(to: false)
        entries.initialize(repeating: 0, count: 2 * GapTree.leafCapacity + 2)
        entries2.initialize(repeating: 0, count: 2 * GapTree.leafCapacity + 2)
        storeLeaf(r, entries, 0, spread: .even)
    }

    func destroy() {
        pool.destroy()
        pathNode.deallocate()
        auxNode.deallocate()
        hintNode.deallocate()
        hintPos.deallocate()
        pathPos.deallocate()
        auxPos.deallocate()
        pathCurrent.deallocate()
        entries.deallocate()
        entries2.deallocate()
    }

    // MARK: Handles

    @inline(__always) func node(_ i: UInt32) -> UnsafeMutablePointer<iova> { pool.node(i) }
    @inline(__always) func lo(_ i: UInt32) -> UInt64 { UInt64(node(i).pointee.pfn_lo) }
    @inline(__always) func hi(_ i: UInt32) -> UInt64 { UInt64(node(i).pointee.pfn_hi) }

    // MARK: Cells

    /// Bits 0-63 of a cell.
    @inline(__always) static func low(_ p: UnsafeMutableRawPointer) -> UInt64 { p.load(as: UInt64.self) }
    /// Bits 64-119 of a cell (bytes 8-14; byte 15 is the slot's state).
    @inline(__always) static func high(_ p: UnsafeMutableRawPointer) -> UInt64 {
        p.loadUnaligned(fromByteOffset: 7, as: UInt64.self) &>> 8
    }

    /// Store a cell: bytes 0-7, then bytes 7-14 (byte 7 again, unchanged), never the state byte, which the fast
    /// path writes without the lock.
    @inline(__always) static func setCell(_ p: UnsafeMutableRawPointer, _ l: UInt64, _ h: UInt64) {
        p.storeBytes(of: l, as: UInt64.self)
        p.storeBytes(of: h &<< 8 | l &>> 56, toByteOffset: 7, as: UInt64.self)
    }

    // MARK: Entries and summaries

    @inline(__always) static func index(_ e: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: e) }
    @inline(__always) static func word(_ e: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: e &>> 32) }
    @inline(__always) static func gap(_ w: UInt32) -> UInt32 { w & saturated }
    @inline(__always) static func entry(_ i: UInt32, _ w: UInt32) -> UInt64 { UInt64(i) | UInt64(w) &<< 32 }

    /// The gap word of `g` free granules below pfn_lo `lo` (saturated here).
    @inline(__always) func gapWord(lo: UInt64, gap g: UInt64) -> UInt32 {
        if g >= 127 {
            let s = g >= UInt64(GapTree.saturated) ? GapTree.saturated : UInt32(truncatingIfNeeded: g)
            return s | GapTree.allFitBits &<< 20
        }
        let up = Int(truncatingIfNeeded: (0 &- (lo &- g)) & 63)
        return UInt32(truncatingIfNeeded: g) | UInt32(fitTable[up &<< 7 | Int(truncatingIfNeeded: g)]) &<< 20
    }

    /// The fit bits of the free granules [lo - gap, lo); every bit for a saturated gap. With r = the granules from
    /// the gap's start up to the first 2^k-aligned pfn, the aligned run holds u = gap - r granules (when r < gap).
    static func fitBits(lo b: UInt64, gap g: UInt64) -> UInt32 {
        // A run of 2^(k+1) - 1 free granules holds an aligned 2^k block for every k <= 6; below 2 none fits.
        if g >= 127 { return allFitBits }
        if g < 2 { return 0 }
        let up = 0 &- (b &- g)                  // -(first free pfn): its low k bits are r for 2^k
        var bits: UInt64 = 0
        for k in 1...UInt64(fitClasses) {
            let r = up & ((1 &<< k) &- 1)
            bits |= (g > r &+ (1 &<< (k &- 1)) ? 1 : 0) &<< (k &- 1)   // u > 2^(k-1): "half"
            bits |= (g >= r &+ (1 &<< k) ? 1 : 0) &<< (k &+ 5)         // u >= 2^k: "full"
        }
        return UInt32(truncatingIfNeeded: bits)
    }

    /// `fitBits` of gaps below 128 granules, by the low 6 bits of -(the gap's first pfn) and the gap: 16 KiB.
    nonisolated(unsafe) static let fitTable: UnsafePointer<UInt16> = {
        let t = UnsafeMutablePointer<UInt16>.allocate(capacity: 64 * 128)
        for up in 0..<64 {
            for g in 0..<128 {
                // A gap of g ending at b = g - up (mod 64) starts at -up.
                t[up << 7 | g] = UInt16(fitBits(lo: UInt64(g) &- UInt64(up), gap: UInt64(g)))
            }
        }
        return UnsafePointer(t)
    }()

    /// The gap below a node starting at `lo` whose predecessor ends at `predHi` (nil: none).
    @inline(__always) static func gapValue(lo: UInt64, predHi: UInt64?) -> UInt64 {
        guard let predHi else { return lo }
        return lo &- predHi &- 1
    }

    /// Combine two summary words: max of the gaps, OR of the fit bits.
    @inline(__always) static func combine(_ a: UInt32, _ b: UInt32) -> UInt32 {
        max(a & saturated, b & saturated) | ((a | b) & ~saturated)
    }

    /// A search request: the gap an entry must have (`need`, saturated, at least 1) and the fit bits it must show
    /// (`fitMask`), both necessary; the search's `fits` decides exactly for an entry that shows them. An empty
    /// slot or cell (word 0) admits nothing.
    struct Request {
        var need: UInt32
        var fitMask: UInt32
        @inline(__always) func admits(_ w: UInt32) -> Bool {
            w & GapTree.saturated >= need && (w &>> 20) & fitMask == fitMask
        }
    }

    // MARK: Leaves

    /// The gap word of slot `s` of leaf `n` (0 when empty).
    @inline(__always) func leafWord(_ n: UInt32, _ s: Int) -> UInt32 {
        pool.cell(n, s &>> 1).load(fromByteOffset: (s & 1) &<< 2, as: UInt32.self)
    }

    /// The handle index in slot `s` of leaf `n` (0 when empty).
    @inline(__always) func leafIndex(_ n: UInt32, _ s: Int) -> UInt32 {
        UInt32(truncatingIfNeeded: (GapTree.high(pool.cell(n, s &>> 1)) &>> UInt64(27 &* (s & 1))) & GapTree.indexMask)
    }

    /// Fill slot `s` of leaf `n` (index 0 and word 0 empty it).
    @inline(__always) func setSlot(_ n: UInt32, _ s: Int, _ i: UInt32, _ w: UInt32) {
        let p = pool.cell(n, s &>> 1)
        let shift = UInt64(27 &* (s & 1))
        let wordShift = UInt64((s & 1) &<< 5)
        let l = GapTree.low(p) & ~(0xffff_ffff &<< wordShift) | UInt64(w) &<< wordShift
        let h = GapTree.high(p) & ~(GapTree.indexMask &<< shift) | UInt64(i) &<< shift
        GapTree.setCell(p, l, h)
    }

    @inline(__always) func setSlotWord(_ n: UInt32, _ s: Int, _ w: UInt32) {
        pool.cell(n, s &>> 1).storeBytes(of: w, toByteOffset: (s & 1) &<< 2, as: UInt32.self)
    }

    /// The first filled slot of leaf `n` at or after `s`, or `leafCapacity`.
    @inline(__always) func nextSlot(_ n: UInt32, from s: Int) -> Int {
        var t = s
        while t < GapTree.leafCapacity && leafIndex(n, t) == 0 { t &+= 1 }
        return t
    }

    /// The last filled slot of leaf `n` at or before `s`, or -1.
    @inline(__always) func previousSlot(_ n: UInt32, from s: Int) -> Int {
        var t = s
        while t >= 0 && leafIndex(n, t) == 0 { t &-= 1 }
        return t
    }

    /// The entries of leaf `n`, in order and without the holes, into `b`; returns how many there are.
    func loadLeaf(_ n: UInt32, _ b: UnsafeMutablePointer<UInt64>) -> Int {
        var used = 0
        for c in 0..<GapTree.cells {
            let p = pool.cell(n, c)
            let l = GapTree.low(p), h = GapTree.high(p)
            let i0 = h & GapTree.indexMask, i1 = (h &>> 27) & GapTree.indexMask
            b[used] = i0 | l &<< 32
            used &+= i0 != 0 ? 1 : 0
            b[used] = i1 | l & GapTree.highWords
            used &+= i1 != 0 ? 1 : 0
        }
        return used
    }

    /// Where `storeLeaf` puts the holes: spread between the entries, all after them, or all before them (for a
    /// leaf that grows at its front).
    enum Spread { case even, holesAfter, holesBefore }

    /// Entries 0 ..< `used` of `b` into leaf `n`, the holes placed as `spread` says.
    func storeLeaf(_ n: UInt32, _ b: UnsafeMutablePointer<UInt64>, _ used: Int, spread: Spread) {
        let cap = GapTree.leafCapacity
        var next = 0
        // Slot of entry k: even spread puts it at k * cap / used.
        func slot(_ k: Int) -> Int {
            switch spread {
            case .even: return (k &+ 1) &* cap / used &- 1       // the holes before the entries
            case .holesAfter: return k
            case .holesBefore: return cap &- used &+ k
            }
        }
        var target = used > 0 ? slot(0) : cap
        for c in 0..<GapTree.cells {
            var e0: UInt64 = 0, e1: UInt64 = 0
            if target == 2 &* c {
                e0 = b[next]
                next &+= 1
                target = next < used ? slot(next) : cap
            }
            if target == 2 &* c &+ 1 {
                e1 = b[next]
                next &+= 1
                target = next < used ? slot(next) : cap
            }
            GapTree.setCell(pool.cell(n, c), e0 &>> 32 | e1 & GapTree.highWords,
                            e0 & GapTree.indexMask | (e1 & GapTree.indexMask) &<< 27)
        }
    }

    /// The number of entries of leaf `n`.
    @inline(__always) func leafCount(_ n: UInt32) -> Int {
        var used = 0
        for c in 0..<GapTree.cells {
            let h = GapTree.high(pool.cell(n, c))
            used &+= (h & GapTree.indexMask != 0 ? 1 : 0) &+ ((h &>> 27) & GapTree.indexMask != 0 ? 1 : 0)
        }
        return used
    }

    /// The summary of leaf `n` (holes hold word 0).
    @inline(__always) func leafSummary(_ n: UInt32) -> UInt32 {
        var m: UInt32 = 0, bits: UInt32 = 0
        for c in 0..<GapTree.cells {
            let l = GapTree.low(pool.cell(n, c))
            let w0 = UInt32(truncatingIfNeeded: l), w1 = UInt32(truncatingIfNeeded: l &>> 32)
            bits |= w0 | w1
            m = max(m, max(w0 & GapTree.saturated, w1 & GapTree.saturated))
        }
        return m | bits & ~GapTree.saturated
    }

    @inline(__always) static func leafSummary(_ b: UnsafeMutablePointer<UInt64>, _ used: Int) -> UInt32 {
        var m: UInt32 = 0, bits: UInt32 = 0
        for j in 0..<used {
            let w = word(b[j])
            bits |= w
            m = max(m, w & saturated)
        }
        return m | bits & ~saturated
    }

    /// The slot of handle `i` in leaf `n`, or -1.
    @inline(__always) func position(of i: UInt32, inLeaf n: UInt32) -> Int {
        var found = -1
        let pattern = UInt64(i) | UInt64(i) &<< 27
        for c in 0..<GapTree.cells {
            let x = GapTree.high(pool.cell(n, c)) ^ pattern
            found = x & GapTree.indexMask == 0 ? 2 &* c : found
            found = x & (GapTree.indexMask &<< 27) == 0 ? 2 &* c &+ 1 : found
        }
        return found
    }

    /// The slot of the last entry of leaf `n` whose pfn_lo is at most `key`, or -1 (reads the handles).
    @inline(__always) func lastPosition(atMost key: UInt64, inLeaf n: UInt32) -> Int {
        var k = -1
        for s in 0..<GapTree.leafCapacity {
            let i = leafIndex(n, s)
            if i == 0 { continue }
            if lo(i) > key { break }
            k = s
        }
        return k
    }

    // MARK: Inner nodes

    @inline(__always) func childKey(_ n: UInt32, _ c: Int) -> UInt64 { GapTree.low(pool.cell(n, c)) }

    /// Bits 64-87 of the cell.
    @inline(__always) func childRef(_ n: UInt32, _ c: Int) -> UInt32 {
        pool.cell(n, c).load(fromByteOffset: 8, as: UInt32.self) & GapTree.refMask
    }

    /// Bits 88-119 of the cell: bytes 11-14.
    @inline(__always) func childSummary(_ n: UInt32, _ c: Int) -> UInt32 {
        pool.cell(n, c).loadUnaligned(fromByteOffset: 11, as: UInt32.self)
    }

    @inline(__always) func setChild(_ n: UInt32, _ c: Int, key: UInt64, ref: UInt32, summary: UInt32) {
        GapTree.setCell(pool.cell(n, c), key, UInt64(ref) | UInt64(summary) &<< 24)
    }

    @inline(__always) func setChildSummary(_ n: UInt32, _ c: Int, _ s: UInt32) {
        pool.cell(n, c).storeBytes(of: s, toByteOffset: 11, as: UInt32.self)
    }

    @inline(__always) func clearChild(_ n: UInt32, _ c: Int) { GapTree.setCell(pool.cell(n, c), GapTree.emptyKey, 0) }

    @inline(__always) func innerCount(_ n: UInt32) -> Int {
        var used = 0
        for c in 0..<GapTree.cells { used &+= childKey(n, c) != GapTree.emptyKey ? 1 : 0 }
        return used
    }

    /// The summary of inner node `n` (empty cells hold 0).
    @inline(__always) func innerSummary(_ n: UInt32) -> UInt32 {
        var m: UInt32 = 0, bits: UInt32 = 0
        for c in 0..<GapTree.cells {
            let s = childSummary(n, c)
            bits |= s
            m = max(m, s & GapTree.saturated)
        }
        return m | bits & ~GapTree.saturated
    }

    /// The child of inner node `n` to take towards `key` (below ~0): the last whose smallest pfn_lo is at most
    /// `key`, or the first.
    @inline(__always) func childPosition(_ n: UInt32, towards key: UInt64) -> Int {
        var pos = 0
        for c in 1..<GapTree.cells { pos &+= childKey(n, c) <= key ? 1 : 0 }
        return pos
    }

    // MARK: Paths

    /// Descend towards `key` along `pn`/`pp`; returns the leaf (also `pn[levels - 1]`).
    @inline(__always) func descend(_ key: UInt64, _ pn: UnsafeMutablePointer<UInt32>,
                                   _ pp: UnsafeMutablePointer<Int>) -> UInt32 {
        let key = min(key, GapTree.emptyKey &- 1)
        var n = root
        var l = 0
        while l < levels &- 1 {
            pn[l] = n
            let c = childPosition(n, towards: key)
            pp[l] = c
            n = childRef(n, c)
            l &+= 1
        }
        pn[l] = n
        return n
    }

    /// Point the main cursor at handle `i`; false when `i` is not in the tree (the descent by its pfn_lo does not
    /// reach it). `nearby`: `i` is likely in the main path's leaf (look there first).
    @inline(__always) func locate(_ i: UInt32, nearby: Bool = false) -> Bool {
        let leafLevel = levels &- 1
        if nearby {
            if pathCurrent.pointee {
                let s = position(of: i, inLeaf: pathNode[leafLevel])
                if s >= 0 {
                    pathPos[leafLevel] = s
                    return true
                }
            }
            if hintShape == shape {
                let s = position(of: i, inLeaf: hintNode[leafLevel])
                if s >= 0 {
                    for l in 0..<leafLevel {
                        pathNode[l] = hintNode[l]
                        pathPos[l] = hintPos[l]
                    }
                    pathNode[leafLevel] = hintNode[leafLevel]
                    pathPos[leafLevel] = s
                    pathCurrent.pointee = true
                    return true
                }
            }
        }
        let leaf = descend(lo(i), pathNode, pathPos)
        let s = position(of: i, inLeaf: leaf)
        pathPos[leafLevel] = s
        pathCurrent.pointee = true
        return s >= 0
    }

    /// Move a path to the first entry of the next leaf; false at the last leaf (the path is then unchanged).
    func nextLeaf(_ pn: UnsafeMutablePointer<UInt32>, _ pp: UnsafeMutablePointer<Int>) -> Bool {
        var l = levels &- 2
        while l >= 0 && pp[l] &+ 1 >= innerCount(pn[l]) { l &-= 1 }
        if l < 0 { return false }
        pp[l] &+= 1
        while l < levels &- 1 {
            pn[l &+ 1] = childRef(pn[l], pp[l])
            l &+= 1
            pp[l] = 0
        }
        pp[l] = nextSlot(pn[l], from: 0)
        return true
    }

    /// Move a path to the last entry of the previous leaf; false at the first leaf (the path is then unchanged).
    func previousLeaf(_ pn: UnsafeMutablePointer<UInt32>, _ pp: UnsafeMutablePointer<Int>) -> Bool {
        var l = levels &- 2
        while l >= 0 && pp[l] == 0 { l &-= 1 }
        if l < 0 { return false }
        pp[l] &-= 1
        while l < levels &- 1 {
            let n = childRef(pn[l], pp[l])
            pn[l &+ 1] = n
            l &+= 1
            pp[l] = l == levels &- 1 ? previousSlot(n, from: GapTree.leafCapacity &- 1) : innerCount(n) &- 1
        }
        return true
    }

    /// Copy the main cursor into the second path.
    @inline(__always) func copyPath() {
        for l in 0..<levels {
            auxNode[l] = pathNode[l]
            auxPos[l] = pathPos[l]
        }
    }

    /// The node at `level` of a path now holds `s`: store it in its parent, and so up while that changes the
    /// parent's summary. Where a summary only grew, the parent's is its old one combined with it (no need to read
    /// the other children).
    @inline(__always) func propagate(from level: Int, _ s: UInt32, _ pn: UnsafeMutablePointer<UInt32>,
                                     _ pp: UnsafeMutablePointer<Int>) {
        var s = s
        var l = level &- 1
        while l >= 0 {
            let n = pn[l], c = pp[l]
            let old = childSummary(n, c)
            if old == s { return }
            setChildSummary(n, c, s)
            if l == 0 { return }
            let grew = s & GapTree.saturated >= old & GapTree.saturated && (old & ~GapTree.saturated) & ~s == 0
            s = grew ? GapTree.combine(childSummary(pn[l &- 1], pp[l &- 1]), s) : innerSummary(n)
            l &-= 1
        }
    }

    /// The node at `level` of a path has a new smallest pfn_lo: store it in its parent, and so up while the node
    /// is a first child.
    @inline(__always) func setSmallest(from level: Int, _ key: UInt64, _ pn: UnsafeMutablePointer<UInt32>,
                                       _ pp: UnsafeMutablePointer<Int>) {
        var l = level &- 1
        while l >= 0 {
            pool.cell(pn[l], pp[l]).storeBytes(of: key, as: UInt64.self)
            if pp[l] != 0 { return }
            l &-= 1
        }
    }

    // MARK: Lookups

    /// The node containing `pfn`, or `none`. Kernel: `private_find_iova`.
    func find(containing pfn: UInt64) -> UInt32 {
        let leaf = descend(pfn, auxNode, auxPos)
        let s = lastPosition(atMost: pfn, inLeaf: leaf)
        if s < 0 { return NodePool.none }
        let i = leafIndex(leaf, s)
        return hi(i) >= pfn ? i : NodePool.none
    }

    /// The entry after slot `s` of the second path's leaf (the first of the next leaf after its last), or `none`.
    func entry(after s: Int) -> UInt32 {
        let leaf = auxNode[levels &- 1]
        let t = nextSlot(leaf, from: s &+ 1)
        if t < GapTree.leafCapacity { return leafIndex(leaf, t) }
        return nextLeaf(auxNode, auxPos) ? leafIndex(auxNode[levels &- 1], auxPos[levels &- 1]) : NodePool.none
    }

    /// The lowest node whose pfn_hi is at least `key`, or `none` (nodes do not overlap, so pfn_hi orders them too).
    func lowest(hiAtLeast key: UInt64) -> UInt32 {
        let leaf = descend(key, auxNode, auxPos)
        let s = lastPosition(atMost: key, inLeaf: leaf)
        if s >= 0 {
            let i = leafIndex(leaf, s)
            if hi(i) >= key { return i }
        }
        return entry(after: s)
    }

    /// Point the main cursor at the highest node whose pfn_lo is below `key` and return it, or `none` with the
    /// cursor at slot -1 of the first leaf. (Slot + 1 is where a node starting at `key` goes.)
    func cursor(highestBelow key: UInt64) -> UInt32 {
        pathCurrent.pointee = true
        let leafLevel = levels &- 1
        if key == 0 {
            _ = descend(0, pathNode, pathPos)
            pathPos[leafLevel] = -1
            return NodePool.none
        }
        let leaf = descend(key &- 1, pathNode, pathPos)
        let s = lastPosition(atMost: key &- 1, inLeaf: leaf)
        pathPos[leafLevel] = s
        return s < 0 ? NodePool.none : leafIndex(leaf, s)
    }

    /// The highest node whose pfn_lo is below `key`, or `none`; leaves the main cursor alone.
    func highest(loBelow key: UInt64) -> UInt32 {
        if key == 0 { return NodePool.none }
        let leaf = descend(key &- 1, auxNode, auxPos)
        let s = lastPosition(atMost: key &- 1, inLeaf: leaf)
        return s < 0 ? NodePool.none : leafIndex(leaf, s)
    }

    /// Kernel: `rb_prev`.
    @inline(__always) func predecessor(_ i: UInt32) -> UInt32 { highest(loBelow: lo(i)) }

    /// Kernel: `rb_next` (`none` after the highest node; the caller maps that to the anchor). Leaves the main
    /// cursor alone.
    func successor(_ i: UInt32) -> UInt32 {
        let leaf = descend(lo(i), auxNode, auxPos)
        return entry(after: position(of: i, inLeaf: leaf))
    }

    /// Search down from the main cursor's slot (inclusive) for the highest entry the request admits and `fits`
    /// accepts (called with the handle, its pfn_lo and its gap word), skipping every subtree whose summary does
    /// not admit the request; `none` when there is none, or when the search reaches an entry with pfn_lo below
    /// `floor` (nothing there can succeed). Leaves the main cursor at the entry found. O(log n) node visits plus
    /// the subtrees that admit the request without holding a fit (size-aligned requests only).
    @inline(__always) func last(_ req: Request, floor: UInt64, fits: (UInt32, UInt64, UInt32) -> Bool) -> UInt32 {
        let leafLevel = levels &- 1
        var l = leafLevel
        var j = pathPos[leafLevel]
        walk: while true {
            let n = pathNode[l]
            if l == leafLevel {
                while j >= 0 {
                    // Most slots hold a gap too small: skip a cell's two (or, from its second, one) at once.
                    let cellLow = GapTree.low(pool.cell(n, j &>> 1))
                    let second = (cellLow &>> 32) & UInt64(GapTree.saturated)
                    let largest = max(cellLow & UInt64(GapTree.saturated), j & 1 == 1 ? second : 0)
                    if largest < UInt64(req.need) {
                        j = (j | 1) &- 2
                        continue
                    }
                    let w = UInt32(truncatingIfNeeded: cellLow &>> UInt64((j & 1) &<< 5))
                    if req.admits(w) {
                        let i = leafIndex(n, j), clo = lo(i)
                        if clo < floor { break walk }
                        if fits(i, clo, w) {
                            pathPos[l] = j
                            return i
                        }
                    }
                    j &-= 1
                }
            } else {
                // The rightmost child at or left of j that admits the request.
                while j >= 0 && !req.admits(childSummary(n, j)) { j &-= 1 }
                if j >= 0 {
                    // Every pfn_lo in child j is below the next child's smallest.
                    if j &+ 1 < GapTree.cells && childKey(n, j &+ 1) <= floor { break walk }
                    pathPos[l] = j
                    let child = childRef(n, j)
                    l &+= 1
                    pathNode[l] = child
                    // From the last slot: empty ones hold 0, which admits nothing.
                    j = (l == leafLevel ? GapTree.leafCapacity : GapTree.innerCapacity) &- 1
                    continue
                }
            }
            // This node is exhausted: go on left of it in its parent.
            if l == 0 { break walk }
            l &-= 1
            let left = pathPos[l]
            if childKey(pathNode[l], left) <= floor { break walk }
            j = left &- 1
        }
        // The path may now end above the leaf level.
        pathCurrent.pointee = false
        return NodePool.none
    }

    /// `find(containing:)` for a reader without the lock, which checks the result against the seqlock: every node
    /// number and index is checked before use and the walk is bounded, so a tree changing underneath can give a
    /// wrong answer (`torn` or not) but never a fault or a loop.
    @inline(__always) func findLockFree(_ pfn: UInt64) -> (index: UInt32, torn: Bool) {
        let key = min(pfn, GapTree.emptyKey &- 1)
        let depth = levels
        guard depth >= 1 && depth <= GapTree.maxLevels else { return (NodePool.none, true) }
        var n = root
        var l = 1
        while l < depth {
            guard pool.isIndexNode(n) else { return (NodePool.none, true) }
            n = childRef(n, childPosition(n, towards: key))
            l &+= 1
        }
        guard pool.isIndexNode(n) else { return (NodePool.none, true) }
        var found = NodePool.none
        for s in 0..<GapTree.leafCapacity {
            let h = GapTree.high(pool.cell(n, s &>> 1))
            let i = UInt32(truncatingIfNeeded: (h &>> UInt64(27 &* (s & 1))) & GapTree.indexMask)
            if i == 0 { continue }
            guard let p = pool.checkedNode(i) else { return (NodePool.none, true) }
            if UInt64(p.pointee.pfn_lo) > pfn { break }
            found = i
        }
        return (found, false)
    }

    /// The height of the tree in levels, 0 when it is empty (`swiommu_iova_stats.tree_height`).
    var height: Int { count == 0 ? 0 : levels }

    /// Every entry in ascending order: the handle and its gap word.
    func forEach(_ body: (UInt32, UInt32) -> Void) {
        func visit(_ n: UInt32, _ level: Int) {
            if level == levels - 1 {
                for s in 0..<GapTree.leafCapacity where leafIndex(n, s) != 0 { body(leafIndex(n, s), leafWord(n, s)) }
            } else {
                for c in 0..<innerCount(n) { visit(childRef(n, c), level + 1) }
            }
        }
        visit(root, 0)
    }

    // MARK: Updates

    /// Whether an insertion cannot run out of index nodes (it splits at most one node per level, and may add a
    /// root).
    var canInsert: Bool { pool.canAllocateIndexNodes(levels &+ 1) }

    /// Insert node `z` (pfn_lo and pfn_hi set, overlapping nothing) at the main cursor: just before the leaf slot
    /// it names (`leafCapacity`: after the leaf's last), which must be where its order puts it. Kernel:
    /// `iova_insert_rbtree`.
    mutating func insert(_ z: UInt32) {
        let leafLevel = levels &- 1
        let cap = GapTree.leafCapacity
        let leaf = pathNode[leafLevel]
        let s = pathPos[leafLevel]
        let zlo = lo(z), zhi = hi(z)
        // The successor: the first entry at or after s, else the first of the next leaf (on the second path).
        let ss = nextSlot(leaf, from: s)
        var succ = NodePool.none
        var succWord: UInt32 = 0
        var succElsewhere = false
        if ss < cap {
            succ = leafIndex(leaf, ss)
            succWord = leafWord(leaf, ss)
        } else {
            copyPath()
            if nextLeaf(auxNode, auxPos) {
                succ = leafIndex(auxNode[leafLevel], auxPos[leafLevel])
                succWord = leafWord(auxNode[leafLevel], auxPos[leafLevel])
                succElsewhere = true
            }
        }
        // The gap below z: from the successor's when that is exact (the predecessor ends where it began), else
        // from the predecessor's pfn_hi. (A successor in the next leaf means an entry before s here, so the
        // second path is not needed for the predecessor then.)
        let succLo = succ == NodePool.none ? 0 : lo(succ)
        let zGap: UInt64
        if succ != NodePool.none && GapTree.gap(succWord) < GapTree.saturated {
            zGap = zlo &- succLo &+ UInt64(GapTree.gap(succWord))
        } else {
            let ps = previousSlot(leaf, from: s &- 1)
            var pred = NodePool.none
            if ps >= 0 {
                pred = leafIndex(leaf, ps)
            } else {
                copyPath()
                if previousLeaf(auxNode, auxPos) { pred = leafIndex(auxNode[leafLevel], auxPos[leafLevel]) }
            }
            zGap = GapTree.gapValue(lo: zlo, predHi: pred == NodePool.none ? nil : hi(pred))
        }
        let zWord = gapWord(lo: zlo, gap: zGap)
        let newSuccWord = succ == NodePool.none ? 0 : gapWord(lo: succLo, gap: succLo &- zhi &- 1)
        count &+= 1
        if succElsewhere {
            setSlotWord(auxNode[leafLevel], auxPos[leafLevel], newSuccWord)
            propagate(from: leafLevel, leafSummary(auxNode[leafLevel]), auxNode, auxPos)
        }
        // A hole next to the place, else the nearest one, the entries between moving over.
        var zs = -1
        if s > 0 && leafIndex(leaf, s &- 1) == 0 {
            zs = s &- 1
        } else if s < cap && leafIndex(leaf, s) == 0 {
            zs = s
        } else {
            var hl = s &- 2
            while hl >= 0 && leafIndex(leaf, hl) != 0 { hl &-= 1 }
            var hr = s &+ 1
            while hr < cap && leafIndex(leaf, hr) != 0 { hr &+= 1 }
            if hl >= 0 && (hr >= cap || s &- 1 &- hl <= hr &- s) {
                for t in hl..<(s &- 1) { setSlot(leaf, t, leafIndex(leaf, t &+ 1), leafWord(leaf, t &+ 1)) }
                zs = s &- 1
            } else if hr < cap {
                var t = hr
                while t > s {
                    setSlot(leaf, t, leafIndex(leaf, t &- 1), leafWord(leaf, t &- 1))
                    t &-= 1
                }
                zs = s
            }
        }
        if zs >= 0 {
            setSlot(leaf, zs, z, zWord)
            if !succElsewhere && succ != NodePool.none { setSlotWord(leaf, nextSlot(leaf, from: zs &+ 1), newSuccWord) }
            if previousSlot(leaf, from: zs &- 1) < 0 { setSmallest(from: leafLevel, zlo, pathNode, pathPos) }
            pathPos[leafLevel] = zs
            if leafLevel > 0 {
                let old = childSummary(pathNode[leafLevel &- 1], pathPos[leafLevel &- 1])
                if succElsewhere || succ == NodePool.none {
                    // Only z's gap is new here.
                    propagate(from: leafLevel, GapTree.combine(old, zWord), pathNode, pathPos)
                } else if GapTree.gap(succWord) >= GapTree.gap(old)
                            || (succWord & ~(zWord | newSuccWord)) &>> 20 != 0 {
                    // The successor's gap was split in two: the summary shrinks only if it was the largest or
                    // held fit bits neither piece keeps.
                    propagate(from: leafLevel, leafSummary(leaf), pathNode, pathPos)
                }
            }
            for l in 0...leafLevel {
                hintNode[l] = pathNode[l]
                hintPos[l] = pathPos[l]
            }
            hintShape = shape
            return
        }
        // The leaf is full: split it, the left part staying, the right part going to a new leaf.
        let b = entries
        _ = loadLeaf(leaf, b)
        var at = 0                                      // entries before slot s
        for t in 0..<s where leafIndex(leaf, t) != 0 { at &+= 1 }
        var q = cap
        while q > at {
            b[q] = b[q &- 1]
            q &-= 1
        }
        b[at] = GapTree.entry(z, zWord)
        if !succElsewhere && succ != NodePool.none { b[at &+ 1] = GapTree.entry(succ, newSuccWord) }
        if at == 0 { setSmallest(from: leafLevel, zlo, pathNode, pathPos) }
        let total = cap &+ 1
        let (first, lastOfLevel) = edges(leafLevel)
        let split = first && at == 0 ? 1 : lastOfLevel && at == total &- 1 ? total &- 1 : total / 2
        let right = pool.allocateIndexNode().unsafelyUnwrapped
        storeLeaf(leaf, b, split, spread: split == 1 ? .holesBefore : .even)
        storeLeaf(right, b + split, total &- split, spread: split == total &- 1 ? .holesAfter : .even)
        let rightKey = lo(GapTree.index(b[split]))
        addChild(level: leafLevel &- 1, leftSummary: GapTree.leafSummary(b, split), key: rightKey, ref: right,
                 summary: GapTree.leafSummary(b + split, total &- split))
    }

    /// Whether the node at `level` of the main path is the first and the last of its level.
    @inline(__always) func edges(_ level: Int) -> (first: Bool, last: Bool) {
        var first = true, last = true
        for l in 0..<level {
            first = first && pathPos[l] == 0
            last = last && pathPos[l] == innerCount(pathNode[l]) &- 1
        }
        return (first, last)
    }

    /// The child at `pathPos[level]` of the inner node at `level` of the main path split: it now has
    /// `leftSummary`, and a new child (`ref`, smallest pfn_lo `key`, `summary`) follows it. Splits this node in turn
    /// when it overflows, adding a root above the old one at the top. In the first node of a level, a new child
    /// after the first leaves the first alone on the left (the insertions at the front of the tree fill it); in
    /// the last, a new child at the end goes alone to the right; otherwise the node splits in half.
    mutating func addChild(level: Int, leftSummary: UInt32, key: UInt64, ref: UInt32, summary: UInt32) {
        pathCurrent.pointee = false
        shape &+= 1
        if level < 0 {
            // The root split: a new root over the two halves.
            let r = pool.allocateIndexNode().unsafelyUnwrapped
            let old = root
            setChild(r, 0, key: nodeSmallest(old, level: 0), ref: old, summary: leftSummary)
            setChild(r, 1, key: key, ref: ref, summary: summary)
            for c in 2..<GapTree.cells { clearChild(r, c) }
            root = r
            levels &+= 1
            return
        }
        let n = pathNode[level]
        let p = pathPos[level]
        let used = innerCount(n)
        setChildSummary(n, p, leftSummary)
        if used < GapTree.cells {
            var c = used
            while c > p &+ 1 {
                let from = pool.cell(n, c &- 1)
                GapTree.setCell(pool.cell(n, c), GapTree.low(from), GapTree.high(from))
                c &-= 1
            }
            setChild(n, p &+ 1, key: key, ref: ref, summary: summary)
            propagate(from: level, innerSummary(n), pathNode, pathPos)
            return
        }
        // Overflow: gather the children, split them over this node and a new one.
        let lows = entries, highs = entries2
        var k = 0
        for c in 0..<used {
            let cp = pool.cell(n, c)
            lows[k] = GapTree.low(cp)
            highs[k] = GapTree.high(cp)
            k &+= 1
            if c == p {
                lows[k] = key
                highs[k] = UInt64(ref) | UInt64(summary) &<< 24
                k &+= 1
            }
        }
        let total = used &+ 1
        let (first, lastOfLevel) = edges(level)
        let cut = first && p == 0 ? 1 : lastOfLevel && p &+ 1 == total &- 1 ? total &- 1 : total / 2
        let right = pool.allocateIndexNode().unsafelyUnwrapped
        for c in 0..<GapTree.cells {
            GapTree.setCell(pool.cell(n, c), c < cut ? lows[c] : GapTree.emptyKey, c < cut ? highs[c] : 0)
            let r = cut &+ c
            GapTree.setCell(pool.cell(right, c), r < total ? lows[r] : GapTree.emptyKey, r < total ? highs[r] : 0)
        }
        addChild(level: level &- 1, leftSummary: innerSummary(n), key: lows[cut], ref: right,
                 summary: innerSummary(right))
    }

    /// The smallest pfn_lo in the subtree of node `n` at `level` (none: ~0).
    func nodeSmallest(_ n: UInt32, level: Int) -> UInt64 {
        if level == levels &- 1 {
            let s = nextSlot(n, from: 0)
            return s < GapTree.leafCapacity ? lo(leafIndex(n, s)) : ~0
        }
        return childKey(n, 0)
    }

    /// Unlink node `z` and return its successor (`none` if it was the highest); nil, changing nothing, when `z`
    /// is not in the tree. `z`'s pfn_lo and pfn_hi are left as they were. Kernel: `rb_erase`, with `rb_next` taken
    /// before.
    mutating func remove(_ z: UInt32) -> UInt32? {
        guard locate(z) else { return nil }
        let leafLevel = levels &- 1
        let cap = GapTree.leafCapacity
        let leaf = pathNode[leafLevel]
        let s = pathPos[leafLevel]
        let zhi = hi(z)
        // The successor takes over z's range and the gap below z: its gap grows by both (saturating).
        let (sum, overflow) = (zhi &- lo(z) &+ 1).addingReportingOverflow(UInt64(GapTree.gap(leafWord(leaf, s))))
        let merged = overflow ? ~0 : sum
        setSlot(leaf, s, 0, 0)
        count &-= 1
        var succ = NodePool.none
        var succWord: UInt32 = 0
        let ss = nextSlot(leaf, from: s &+ 1)
        if ss < cap {
            succ = leafIndex(leaf, ss)
            succWord = grown(leafWord(leaf, ss), by: merged, after: zhi)
            setSlotWord(leaf, ss, succWord)
        } else {
            copyPath()
            if nextLeaf(auxNode, auxPos) {
                let nl = auxNode[leafLevel], ns = auxPos[leafLevel]
                succ = leafIndex(nl, ns)
                setSlotWord(nl, ns, grown(leafWord(nl, ns), by: merged, after: zhi))
                propagate(from: leafLevel, leafSummary(nl), auxNode, auxPos)
            }
        }
        let used = leafCount(leaf)
        if used > 0 && previousSlot(leaf, from: s &- 1) < 0 {
            setSmallest(from: leafLevel, lo(leafIndex(leaf, nextSlot(leaf, from: s))), pathNode, pathPos)
        }
        if levels == 1 { return succ }
        if used >= GapTree.leafMinimum {
            // A successor here took over z's gap and range: its new gap contains z's and its own old one, so the
            // summary is the old one with it. Else z's gap left this leaf.
            let summary = succ != NodePool.none && ss < cap
                ? GapTree.combine(childSummary(pathNode[leafLevel &- 1], pathPos[leafLevel &- 1]), succWord)
                : leafSummary(leaf)
            propagate(from: leafLevel, summary, pathNode, pathPos)
        } else {
            rebalance(from: leafLevel, used: used)
        }
        return succ
    }

    /// The successor's gap word after its predecessor (ending at `predHi`) left: the gap grows by `merged`.
    @inline(__always) func grown(_ w: UInt32, by merged: UInt64, after predHi: UInt64) -> UInt32 {
        let g = UInt64(GapTree.gap(w))
        let (sum, overflow) = g.addingReportingOverflow(merged)
        // The successor's pfn_lo, from its old gap when that is exact; a new gap of 127 or more has every fit bit.
        return gapWord(lo: predHi &+ 1 &+ g, gap: overflow ? ~0 : sum)
    }

    /// After a removal left the node at `level` of the main path with `used` entries or children (fewer than half
    /// its capacity, or none): merge it with or refill it from a sibling while it holds fewer than half its
    /// capacity, shrink the root while it has one child, and bring the summaries up to date. No node but the root
    /// is ever left empty (a subtree's smallest pfn_lo must exist).
    mutating func rebalance(from level: Int, used: Int) {
        var l = level
        var used = used
        while l > 0 {
            let minimum = l == levels &- 1 ? GapTree.leafMinimum : GapTree.innerMinimum
            if used >= minimum { break }
            pathCurrent.pointee = false
            shape &+= 1
            let parent = pathNode[l &- 1], p = pathPos[l &- 1]
            let siblings = innerCount(parent)
            if siblings == 1 {
                // An edge node alone under its parent keeps what it has; an empty one goes, and the parent with it.
                if used > 0 { break }
                pool.releaseIndexNode(pathNode[l])
                clearChild(parent, 0)
                l &-= 1
                continue
            }
            let leftPos = p > 0 ? p &- 1 : p
            let leftNode = childRef(parent, leftPos), rightNode = childRef(parent, leftPos &+ 1)
            if l == levels &- 1 {
                let lb = entries, rb = entries2
                let lu = loadLeaf(leftNode, lb), ru = loadLeaf(rightNode, rb)
                if lu &+ ru <= GapTree.leafCapacity {
                    for k in 0..<ru { lb[lu &+ k] = rb[k] }
                    storeLeaf(leftNode, lb, lu &+ ru, spread: .even)
                    if lu == 0 && p == 0 { setSmallest(from: l, childKey(parent, 1), pathNode, pathPos) }
                    setChildSummary(parent, leftPos, GapTree.leafSummary(lb, lu &+ ru))
                    removeChild(parent, leftPos &+ 1)
                    pool.releaseIndexNode(rightNode)
                    used = siblings &- 1
                    l &-= 1
                    continue
                }
                // Share the entries evenly.
                let total = lu &+ ru, half = total / 2
                for k in 0..<ru { lb[lu &+ k] = rb[k] }
                storeLeaf(leftNode, lb, half, spread: .even)
                storeLeaf(rightNode, lb + half, total &- half, spread: .even)
                if lu == 0 && p == 0 { setSmallest(from: l, lo(GapTree.index(lb[0])), pathNode, pathPos) }
                setChild(parent, leftPos &+ 1, key: lo(GapTree.index(lb[half])), ref: rightNode,
                         summary: GapTree.leafSummary(lb + half, total &- half))
                setChildSummary(parent, leftPos, GapTree.leafSummary(lb, half))
            } else {
                let lu = innerCount(leftNode), ru = innerCount(rightNode)
                if lu &+ ru <= GapTree.cells {
                    for c in 0..<ru {
                        let from = pool.cell(rightNode, c)
                        GapTree.setCell(pool.cell(leftNode, lu &+ c), GapTree.low(from), GapTree.high(from))
                    }
                    if lu == 0 && p == 0 { setSmallest(from: l, childKey(parent, 1), pathNode, pathPos) }
                    setChildSummary(parent, leftPos, innerSummary(leftNode))
                    removeChild(parent, leftPos &+ 1)
                    pool.releaseIndexNode(rightNode)
                    used = siblings &- 1
                    l &-= 1
                    continue
                }
                let lows = entries, highs = entries2
                for c in 0..<lu {
                    lows[c] = GapTree.low(pool.cell(leftNode, c))
                    highs[c] = GapTree.high(pool.cell(leftNode, c))
                }
                for c in 0..<ru {
                    lows[lu &+ c] = GapTree.low(pool.cell(rightNode, c))
                    highs[lu &+ c] = GapTree.high(pool.cell(rightNode, c))
                }
                let total = lu &+ ru, half = total / 2
                for c in 0..<GapTree.cells {
                    GapTree.setCell(pool.cell(leftNode, c), c < half ? lows[c] : GapTree.emptyKey,
                                    c < half ? highs[c] : 0)
                    let r = half &+ c
                    GapTree.setCell(pool.cell(rightNode, c), r < total ? lows[r] : GapTree.emptyKey,
                                    r < total ? highs[r] : 0)
                }
                if lu == 0 && p == 0 { setSmallest(from: l, lows[0], pathNode, pathPos) }
                setChild(parent, leftPos &+ 1, key: lows[half], ref: rightNode, summary: innerSummary(rightNode))
                setChildSummary(parent, leftPos, innerSummary(leftNode))
            }
            // Refilled: the parent's summary is what changes further up.
            propagate(from: l &- 1, innerSummary(parent), pathNode, pathPos)
            return
        }
        if l == 0 {
            while levels > 1 && innerCount(root) == 1 {
                pathCurrent.pointee = false
                shape &+= 1
                let old = root
                root = childRef(old, 0)
                levels &-= 1
                pool.releaseIndexNode(old)
            }
            return
        }
        let n = pathNode[l]
        propagate(from: l, l == levels &- 1 ? leafSummary(n) : innerSummary(n), pathNode, pathPos)
    }

    /// Remove child `c` of inner node `n`, moving the ones after it down.
    @inline(__always) func removeChild(_ n: UInt32, _ c: Int) {
        var k = c
        while k &+ 1 < GapTree.cells {
            let from = pool.cell(n, k &+ 1)
            GapTree.setCell(pool.cell(n, k), GapTree.low(from), GapTree.high(from))
            k &+= 1
        }
        clearChild(n, GapTree.cells &- 1)
    }

    /// Lower node `z`'s pfn_lo to `newLo` (still above its predecessor). Kernel: `__adjust_overlap_range`.
    mutating func lowerStart(_ z: UInt32, to newLo: UInt64) {
        guard locate(z) else { return }
        let leafLevel = levels &- 1
        let leaf = pathNode[leafLevel], s = pathPos[leafLevel]
        let zlo = lo(z)
        var g = UInt64(GapTree.gap(leafWord(leaf, s)))
        if g == UInt64(GapTree.saturated) {
            let p = highest(loBelow: zlo)
            g = GapTree.gapValue(lo: zlo, predHi: p == NodePool.none ? nil : hi(p))
        }
        node(z).pointee.pfn_lo = CUnsignedLong(newLo)
        setSlotWord(leaf, s, gapWord(lo: newLo, gap: g &- (zlo &- newLo)))
        if previousSlot(leaf, from: s &- 1) < 0 { setSmallest(from: leafLevel, newLo, pathNode, pathPos) }
        propagate(from: leafLevel, leafSummary(leaf), pathNode, pathPos)
    }

    /// Point the main cursor where node `z` (pfn_lo set) belongs, for `insert` by key (reserve_iova's new nodes).
    func cursor(insertionOf z: UInt32) {
        _ = cursor(highestBelow: lo(z))
        pathPos[levels &- 1] &+= 1
    }

    /// Unlink every node (put_iova_domain): the handles go back to the pool, the tree is one empty leaf.
    mutating func removeAll() {
        pathCurrent.pointee = false
        shape &+= 1
        var handles: [UInt32] = []
        forEach { i, _ in handles.append(i) }
        for i in handles { pool.release(i) }
        func free(_ n: UInt32, _ level: Int) {
            if level < levels - 1 {
                for c in 0..<innerCount(n) { free(childRef(n, c), level + 1) }
            }
            pool.releaseIndexNode(n)
        }
        free(root, 0)
        root = pool.allocateIndexNode().unsafelyUnwrapped
        storeLeaf(root, entries, 0, spread: .even)
        levels = 1
        count = 0
    }
}
