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
///   `struct iova`, which only lookups by pfn and the search's candidates need.
/// - A gap word: bits 0-19 the free granules between an allocation and the one below it (for the lowest, its
///   pfn_lo: the granules from 0), saturated; bits 20-31 the gap's fit bits, of which bit 20 (`present`) is set in
///   every entry, so that a slot is empty exactly when its word is 0 (one aligned load tells). A summary word (of a
///   subtree) has the largest gap and the OR of the fit bits.
/// - An inner node holds up to 8 children, one per cell, packed at the front: bits 0-63 the smallest pfn_lo in
///   the child's subtree, bits 64-87 the child's node number, bits 88-119 the child's summary. An empty cell has
///   the key ~0 (no allocation starts at the anchor's pfn) and nothing else, so that a descent counts the keys at
///   most the one it looks for without asking which cells are in use.
///
/// Fit bits: for a gap of free granules [a, b) and k in 1...6, let u = b - (a rounded up to a multiple of 2^k),
/// the run that starts at the lowest 2^k-aligned pfn. Bit k-1 ("half") is set when u > 2^(k-1), bit 5+k
/// ("full") when u >= 2^k. A request of s granules aligned to 2^k (2^(k-1) < s <= 2^k) fits the gap exactly when
/// u >= s; so "full" decides it for s = 2^k and "half" is necessary for the rest. Both are ORed up the tree.
/// Bit 0 ("half" for k = 1: u > 1) always equals bit 6 ("full" for k = 1: u >= 2), and no request asks for it (a
/// 2-granule request is a power of two): it is the `present` bit instead.
/// Gaps of 2^20 - 1 granules or more (4 GiB with 4 KiB granules) are stored saturated, with every fit bit set.
///
/// Shape: an inner node other than the root holds at least half its capacity and a leaf at least 6 entries,
/// except the leftmost and rightmost node of each level, which hold at least one: an insertion at the very front
/// or end of the tree splits a full node into a full one and one holding the new entry, so that the top-down
/// allocation pattern (each allocation below the last) and the bottom-up one leave full nodes. (Leaves merge only
/// when the two fit in 14 slots, so that a merged leaf does not split again at the next insertions.) A leaf takes
/// 8 cells for 6 to 16 allocations and the inner nodes at most a third of that, so the tree needs at most about
/// 1.8 cells per allocation at the worst fill and 0.6 to 0.8 at the usual ones (a churn leaves about 0.8): with
/// one cell in each allocation's slot, the pool rarely grows for the tree alone.
///
/// What a search costs: O(log n) node visits to the first allocation whose gap takes the request. The exceptions
/// (the part that is not logarithmic) are subtrees whose summary admits a request that none of their gaps takes,
/// each costing one more descent: a size-aligned request that is not a power of two and is above 2^(k-1) + 1 for
/// its alignment 2^k (e.g. 6 aligned to 8) meeting gaps that hold more than 2^(k-1) but fewer than s granules from
/// an aligned start; a size-aligned request of more than 64 granules meeting gaps long enough but with no aligned
/// start for it; a request of 2^20 granules or more, checked against each saturated gap.
///
/// Cursors: a path is the node at each level, the child taken at each inner level, and a slot in the leaf. There
/// are two cursor paths, the main one (`pathNode`/`pathPos`, where updates happen) and the hint (the last
/// insertion's), which trade places instead of being copied: an insertion leaves its path as the hint, and a
/// lookup of the kernel's cached node (the node just inserted, or the successor of the one just freed) finds it
/// in the leaf of one of them without a descent. A path is valid while `shape` is what it was when it was set
/// (`shape` counts the changes that move nodes: splits, merges, refills, a new or a lost root). Lookups that must
/// not disturb the cursors use a third path (`auxNode`, `auxPos`). Callers hold the domain's lock, except
/// `findLockFree`.
struct GapTree {
    static let saturated: UInt32 = 0xf_ffff
    static let fitClasses = 6
    static let allFitBits: UInt32 = 0xfff
    /// Fit bit 0 of a word, set in every entry (see above).
    static let present: UInt32 = 1 &<< 20
    static let cells = NodePool.cellsPerNode
    static let leafCapacity = 2 * NodePool.cellsPerNode
    static let innerCapacity = NodePool.cellsPerNode
    /// A leaf below this many entries (other than an edge one) takes entries from a sibling or merges with it;
    /// merging only when both fit in three quarters of a leaf, so that the merged leaf does not split again at the
    /// next insertions, nor the shared ones come back at the next removals.
    static let leafMinimum = 6
    static let leafMergeLimit = 14
    static let innerMinimum = innerCapacity / 2
    /// 2^27 entries need at most 1 + log2(2^27 / 8) / log2(4) levels (half-full nodes; the edge nodes add one).
    static let maxLevels = 16
    static let indexMask: UInt64 = 0x07ff_ffff
    static let refMask: UInt32 = 0x00ff_ffff
    static let emptyKey: UInt64 = ~0
    static let highWords: UInt64 = 0xffff_ffff_0000_0000
    /// Bytes of an index node (its cells are consecutive slots).
    static let nodeBytes = NodePool.cellsPerNode * NodePool.stride

    var pool: NodePool
    var root: UInt32
    /// Levels of the tree: 1 when the root is a leaf.
    var levels = 1
    var count = 0
    var shape = 0
    /// Gaps long enough for a request that held no aligned start for it: the searches' non-logarithmic steps.
    var misalignedGaps = 0
    /// The three paths: nodes and positions, `maxLevels` each: the two cursor paths at 0 and `maxLevels` (which
    /// one is the main path is `cursorState[0]`), the second path at 2 * `maxLevels`.
    let pathNodes: UnsafeMutablePointer<UInt32> = .allocate(capacity: 3 * GapTree.maxLevels)
    let pathPositions: UnsafeMutablePointer<Int> = .allocate(capacity: 3 * GapTree.maxLevels)
    /// [0]: the offset of the main path; [1]: the `shape` at which it was set (-1: it is not a path to a leaf);
    /// [2]: the same for the hint.
    let cursorState: UnsafeMutablePointer<Int> = .allocate(capacity: 3)
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
        pathNodes.initialize(repeating: 0, count: 3 * GapTree.maxLevels)
        pathPositions.initialize(repeating: 0, count: 3 * GapTree.maxLevels)
        cursorState[0] = 0
        cursorState[1] = -1
        cursorState[2] = -1
        entries.initialize(repeating: 0, count: 2 * GapTree.leafCapacity + 2)
        entries2.initialize(repeating: 0, count: 2 * GapTree.leafCapacity + 2)
        storeLeaf(r, entries, 0, spread: .even)
    }

    func destroy() {
        pool.destroy()
        pathNodes.deallocate()
        pathPositions.deallocate()
        cursorState.deallocate()
        entries.deallocate()
        entries2.deallocate()
    }

    // MARK: Paths

    /// The main cursor path.
    @inline(__always) var pathNode: UnsafeMutablePointer<UInt32> { pathNodes + cursorState[0] }
    @inline(__always) var pathPos: UnsafeMutablePointer<Int> { pathPositions + cursorState[0] }
    /// The hint: the last insertion's path, unless the main path took its place since.
    @inline(__always) var hintNode: UnsafeMutablePointer<UInt32> { pathNodes + (GapTree.maxLevels &- cursorState[0]) }
    @inline(__always) var hintPos: UnsafeMutablePointer<Int> { pathPositions + (GapTree.maxLevels &- cursorState[0]) }
    /// The second path.
    @inline(__always) var auxNode: UnsafeMutablePointer<UInt32> { pathNodes + 2 &* GapTree.maxLevels }
    @inline(__always) var auxPos: UnsafeMutablePointer<Int> { pathPositions + 2 &* GapTree.maxLevels }

    /// Whether the main path leads from the root to a leaf as the tree is now.
    @inline(__always) var mainIsCurrent: Bool { cursorState[1] == shape }
    @inline(__always) func setMainCurrent() { cursorState[1] = shape }
    @inline(__always) func setMainStale() { cursorState[1] = -1 }

    /// The main path becomes the hint and the hint the main path.
    @inline(__always) func swapPaths() {
        cursorState[0] = GapTree.maxLevels &- cursorState[0]
        let m = cursorState[1]
        cursorState[1] = cursorState[2]
        cursorState[2] = m
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

    /// Store bits 64-119 of a cell: bytes 8-11, then bytes 11-14 (byte 11 again), never the state byte, which the
    /// fast path writes without the lock.
    @inline(__always) static func setHigh(_ p: UnsafeMutableRawPointer, _ h: UInt64) {
        p.storeBytes(of: UInt32(truncatingIfNeeded: h), toByteOffset: 8, as: UInt32.self)
        p.storeBytes(of: UInt32(truncatingIfNeeded: h &>> 24), toByteOffset: 11, as: UInt32.self)
    }

    /// Store a cell, never its state byte.
    @inline(__always) static func setCell(_ p: UnsafeMutableRawPointer, _ l: UInt64, _ h: UInt64) {
        p.storeBytes(of: l, as: UInt64.self)
        setHigh(p, h)
    }

    /// The first cell of index node `n`; cell c is `nodeBytes / 8 * c` bytes on.
    @inline(__always) func base(_ n: UInt32) -> UnsafeMutableRawPointer {
        pool.raw + Int(truncatingIfNeeded: n) &* GapTree.nodeBytes
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
    /// Bit 0 is the `present` bit.
    static func fitBits(lo b: UInt64, gap g: UInt64) -> UInt32 {
        // A run of 2^(k+1) - 1 free granules holds an aligned 2^k block for every k <= 6; below 2 none fits.
        if g >= 127 { return allFitBits }
        if g < 2 { return 1 }
        let up = 0 &- (b &- g)                  // -(first free pfn): its low k bits are r for 2^k
        var bits: UInt64 = 1
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

    /// The larger of two gaps (below 2^20), without a branch.
    @inline(__always) static func maxGap(_ a: UInt32, _ b: UInt32) -> UInt32 {
        a ^ ((a ^ b) & UInt32(bitPattern: Int32(bitPattern: a &- b) &>> 31))
    }

    /// Combine two summary words: max of the gaps, OR of the fit bits.
    @inline(__always) static func combine(_ a: UInt32, _ b: UInt32) -> UInt32 {
        maxGap(a & saturated, b & saturated) | ((a | b) & ~saturated)
    }

    /// Whether summary `s` may hold everything `t` holds: a gap at least as large and every fit bit.
    @inline(__always) static func covers(_ s: UInt32, _ t: UInt32) -> Bool {
        s & saturated >= t & saturated && (t & ~s) & ~saturated == 0
    }

    /// Whether a summary `p` combining `old` with others stays the same when `old` shrinks to `new`: unless `old`
    /// held p's largest gap and `new` does not keep it, or held p's top fit bit and `new` does not keep it. The
    /// fit bits of a gap are always a prefix of one chain (full 2, half 4, full 4, half 8, ... full 64: each
    /// implies the ones before it), so a p showing a bit that `old` lacks has it from another gap, which then
    /// has every bit `old` had.
    @inline(__always) static func keeps(_ p: UInt32, old: UInt32, new: UInt32) -> Bool {
        let gapLost = old & saturated == p & saturated && new & saturated < old & saturated
        let fitLost = old & ~saturated == p & ~saturated && new & ~saturated != old & ~saturated
        return !(gapLost || fitLost)
    }

    /// A search request: the gap an entry must have (`need`, saturated, at least 1) and the word bit it must show
    /// (`bit`: an alignment class's fit bit, or `present`), both necessary; `exact` when they are also sufficient
    /// (no aligned start to check). `size` and `alignMask` are the kernel's. An empty slot or cell (word 0)
    /// admits nothing.
    struct Request {
        var need: UInt32
        var bit: UInt32
        var exact: Bool
        var size: UInt64
        var alignMask: UInt64
        /// A word admits the request when `w & key >= value`: with `bit` set the masked word is at least `bit`,
        /// without it below.
        @inline(__always) var key: UInt32 { bit | GapTree.saturated }
        @inline(__always) var value: UInt32 { bit | need }

        @inline(__always) init(size: UInt64, alignMask: UInt64) {
            let sat = GapTree.saturated
            self.size = size
            self.alignMask = alignMask
            need = size >= UInt64(sat) ? sat : UInt32(truncatingIfNeeded: size)
            bit = GapTree.present
            exact = size < UInt64(sat)
            let k = Log2.fls(size &- 1)
            if alignMask != ~0 && k >= 1 {
                if k <= GapTree.fitClasses {
                    let pow2 = size == UInt64(1) &<< UInt64(k)
                    bit = (pow2 ? 1 &<< UInt32(5 &+ k) : 1 &<< UInt32(k &- 1)) &<< 20
                    exact = exact && pow2
                } else {
                    exact = false
                }
            }
        }
    }

    // MARK: Leaves

    /// The gap word of slot `s` of leaf `n` (0 when empty).
    @inline(__always) func leafWord(_ n: UInt32, _ s: Int) -> UInt32 {
        base(n).load(fromByteOffset: (s &>> 1) &<< 5 | (s & 1) &<< 2, as: UInt32.self)
    }

    /// The handle index in slot `s` of leaf `n` (0 when empty).
    @inline(__always) func leafIndex(_ n: UInt32, _ s: Int) -> UInt32 {
        let h = GapTree.high(base(n) + (s &>> 1) &<< 5)
        return UInt32(truncatingIfNeeded: (h &>> UInt64(27 &* (s & 1))) & GapTree.indexMask)
    }

    /// Fill slot `s` of leaf `n` (index 0 and word 0 empty it).
    @inline(__always) func setSlot(_ n: UInt32, _ s: Int, _ i: UInt32, _ w: UInt32) {
        let p = base(n) + (s &>> 1) &<< 5
        let shift = UInt64(27 &* (s & 1))
        p.storeBytes(of: w, toByteOffset: (s & 1) &<< 2, as: UInt32.self)
        GapTree.setHigh(p, GapTree.high(p) & ~(GapTree.indexMask &<< shift) | UInt64(i) &<< shift)
    }

    @inline(__always) func setSlotWord(_ n: UInt32, _ s: Int, _ w: UInt32) {
        base(n).storeBytes(of: w, toByteOffset: (s &>> 1) &<< 5 | (s & 1) &<< 2, as: UInt32.self)
    }

    /// The first filled slot of leaf `n` at or after `s`, or `leafCapacity`.
    @inline(__always) func nextSlot(_ n: UInt32, from s: Int) -> Int {
        var t = s
        while t < GapTree.leafCapacity && leafWord(n, t) == 0 { t &+= 1 }
        return t
    }

    /// The last filled slot of leaf `n` at or before `s`, or -1.
    @inline(__always) func previousSlot(_ n: UInt32, from s: Int) -> Int {
        var t = s
        while t >= 0 && leafWord(n, t) == 0 { t &-= 1 }
        return t
    }

    /// The entries of leaf `n`, in order and without the holes, into `b`; returns how many there are.
    func loadLeaf(_ n: UInt32, _ b: UnsafeMutablePointer<UInt64>) -> Int {
        var used = 0
        let nb = base(n)
        for c in 0..<GapTree.cells {
            let p = nb + c &<< 5
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
        let nb = base(n)
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
            GapTree.setCell(nb + c &<< 5, e0 &>> 32 | e1 & GapTree.highWords,
                            e0 & GapTree.indexMask | (e1 & GapTree.indexMask) &<< 27)
        }
    }

    /// The number of entries of leaf `n`: the `present` bits of its words, added two at a time.
    @inline(__always) func leafCount(_ n: UInt32) -> Int {
        let nb = base(n)
        var acc: UInt64 = 0
        for c in 0..<GapTree.cells {
            acc &+= (GapTree.low(nb + c &<< 5) &>> 20) & 0x1_0000_0001
        }
        return Int(truncatingIfNeeded: (acc & 0xffff_ffff) &+ (acc &>> 32))
    }

    /// The filled slots of the leaf at `nb`, one bit each.
    @inline(__always) static func occupancy(_ nb: UnsafeMutableRawPointer) -> UInt32 {
        // The present bits of cell c's two words to bits 2c and 32 + 2c, then the odd slots down by 31.
        var m: UInt64 = 0
        for c in 0..<GapTree.cells { m |= ((low(nb + c &<< 5) &>> 20) & 0x1_0000_0001) &<< UInt64(2 &* c) }
        return UInt32(truncatingIfNeeded: m | m &>> 31) & 0xffff
    }

    /// Slots below `s` (0 ... 16) in a mask.
    @inline(__always) static func below(_ s: Int) -> UInt32 { (UInt32(1) &<< UInt32(truncatingIfNeeded: s)) &- 1 }

    /// The summary of leaf `n` (holes hold word 0).
    @inline(__always) func leafSummary(_ n: UInt32) -> UInt32 {
        var m: UInt32 = 0, bits: UInt64 = 0
        let nb = base(n)
        for c in 0..<GapTree.cells {
            let l = GapTree.low(nb + c &<< 5)
            bits |= l
            m = GapTree.maxGap(m, GapTree.maxGap(UInt32(truncatingIfNeeded: l) & GapTree.saturated,
                                                 UInt32(truncatingIfNeeded: l &>> 32) & GapTree.saturated))
        }
        return m | UInt32(truncatingIfNeeded: bits | bits &>> 32) & ~GapTree.saturated
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
        let nb = base(n)
        let pattern = UInt64(i) | UInt64(i) &<< 27
        var c = 0
        while c < GapTree.cells {
            let x = GapTree.high(nb + c &<< 5) ^ pattern
            if x & GapTree.indexMask == 0 { return 2 &* c }
            if (x &>> 27) & GapTree.indexMask == 0 { return 2 &* c &+ 1 }
            c &+= 1
        }
        return -1
    }

    /// The slot of the last entry of leaf `n` whose pfn_lo is at most `key`, or -1 (reads the handles).
    @inline(__always) func lastPosition(atMost key: UInt64, inLeaf n: UInt32) -> Int {
        var k = -1
        for s in 0..<GapTree.leafCapacity {
            if leafWord(n, s) == 0 { continue }
            if lo(leafIndex(n, s)) > key { break }
            k = s
        }
        return k
    }

    // MARK: Inner nodes

    @inline(__always) func childKey(_ n: UInt32, _ c: Int) -> UInt64 { GapTree.low(base(n) + c &<< 5) }

    /// Bits 64-87 of the cell.
    @inline(__always) func childRef(_ n: UInt32, _ c: Int) -> UInt32 {
        (base(n) + c &<< 5).load(fromByteOffset: 8, as: UInt32.self) & GapTree.refMask
    }

    /// Bits 88-119 of the cell: bytes 11-14.
    @inline(__always) func childSummary(_ n: UInt32, _ c: Int) -> UInt32 {
        (base(n) + c &<< 5).loadUnaligned(fromByteOffset: 11, as: UInt32.self)
    }

    @inline(__always) func setChild(_ n: UInt32, _ c: Int, key: UInt64, ref: UInt32, summary: UInt32) {
        GapTree.setCell(base(n) + c &<< 5, key, UInt64(ref) | UInt64(summary) &<< 24)
    }

    @inline(__always) func setChildSummary(_ n: UInt32, _ c: Int, _ s: UInt32) {
        (base(n) + c &<< 5).storeBytes(of: s, toByteOffset: 11, as: UInt32.self)
    }

    @inline(__always) func clearChild(_ n: UInt32, _ c: Int) { GapTree.setCell(base(n) + c &<< 5, GapTree.emptyKey, 0) }

    @inline(__always) func innerCount(_ n: UInt32) -> Int {
        var used = 0
        for c in 0..<GapTree.cells { used &+= childKey(n, c) != GapTree.emptyKey ? 1 : 0 }
        return used
    }

    /// The summary of inner node `n` (empty cells hold 0).
    @inline(__always) func innerSummary(_ n: UInt32) -> UInt32 {
        var m: UInt32 = 0, bits: UInt32 = 0
        let nb = base(n)
        for c in 0..<GapTree.cells {
            let s = (nb + c &<< 5).loadUnaligned(fromByteOffset: 11, as: UInt32.self)
            bits |= s
            m = GapTree.maxGap(m, s & GapTree.saturated)
        }
        return m | bits & ~GapTree.saturated
    }

    /// The child of inner node `n` to take towards `key` (below ~0): the last whose smallest pfn_lo is at most
    /// `key`, or the first.
    @inline(__always) func childPosition(_ n: UInt32, towards key: UInt64) -> Int {
        let nb = base(n)
        var pos = 0
        for c in 1..<GapTree.cells { pos &+= GapTree.low(nb + c &<< 5) <= key ? 1 : 0 }
        return pos
    }

    // MARK: Descents

    /// Descend towards `key` along `pn`/`pp`; returns the leaf (also `pn[levels - 1]`).
    @inline(__always) func descend(_ key: UInt64, _ pn: UnsafeMutablePointer<UInt32>,
                                   _ pp: UnsafeMutablePointer<Int>) -> UInt32 {
        let key = min(key, GapTree.emptyKey &- 1)
        var n = root
        var l = 0
        let leafLevel = levels &- 1
        while l < leafLevel {
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
    /// reach it). `nearby`: `i` is likely in the leaf of the main path or of the hint (look there first; a hint
    /// that has it becomes the main path).
    @inline(__always) func locate(_ i: UInt32, nearby: Bool = false) -> Bool {
        let leafLevel = levels &- 1
        if nearby {
            // The slot each path ends at first (the successor of the node just freed, the node just inserted),
            // then their leaves.
            let mainCurrent = mainIsCurrent, hintCurrent = cursorState[2] == shape
            if mainCurrent && holds(pathNode[leafLevel], pathPos[leafLevel], i) { return true }
            if hintCurrent && holds(hintNode[leafLevel], hintPos[leafLevel], i) {
                swapPaths()
                return true
            }
            if mainCurrent {
                let s = position(of: i, inLeaf: pathNode[leafLevel])
                if s >= 0 {
                    pathPos[leafLevel] = s
                    return true
                }
            }
            if hintCurrent {
                let s = position(of: i, inLeaf: hintNode[leafLevel])
                if s >= 0 {
                    swapPaths()
                    pathPos[leafLevel] = s
                    return true
                }
            }
        }
        let leaf = descend(lo(i), pathNode, pathPos)
        let s = position(of: i, inLeaf: leaf)
        pathPos[leafLevel] = s
        setMainCurrent()
        return s >= 0
    }

    /// Whether slot `s` (any value) of leaf `n` holds handle `i`.
    @inline(__always) func holds(_ n: UInt32, _ s: Int, _ i: UInt32) -> Bool {
        s >= 0 && s < GapTree.leafCapacity && leafIndex(n, s) == i
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
        let pn = pathNode, pp = pathPos, an = auxNode, ap = auxPos
        for l in 0..<levels {
            an[l] = pn[l]
            ap[l] = pp[l]
        }
    }

    /// The node at `level` of a path now holds `s`: store it in its parent, and so up while that changes the
    /// parent's summary. Where a summary only grew, the parent's is its old one combined with it; where it only
    /// shrank, the parent's stays unless it lost what only it held (`keeps`); else the parent's children are
    /// combined again.
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
            let p = childSummary(pn[l &- 1], pp[l &- 1])
            if GapTree.covers(s, old) {
                s = GapTree.combine(p, s)
            } else if GapTree.covers(old, s) && GapTree.keeps(p, old: old, new: s) {
                return
            } else {
                s = innerSummary(n)
            }
            l &-= 1
        }
    }

    /// `propagate` for a summary that only grew.
    @inline(__always) func propagateGrowth(from level: Int, _ s: UInt32, _ pn: UnsafeMutablePointer<UInt32>,
                                           _ pp: UnsafeMutablePointer<Int>) {
        var s = s
        var l = level &- 1
        while l >= 0 {
            let n = pn[l], c = pp[l]
            if childSummary(n, c) == s { return }
            setChildSummary(n, c, s)
            if l == 0 { return }
            s = GapTree.combine(childSummary(pn[l &- 1], pp[l &- 1]), s)
            l &-= 1
        }
    }

    /// `propagate` for a summary that only shrank.
    @inline(__always) func propagateShrink(from level: Int, _ s: UInt32, _ pn: UnsafeMutablePointer<UInt32>,
                                           _ pp: UnsafeMutablePointer<Int>) {
        var s = s
        var l = level &- 1
        while l >= 0 {
            let n = pn[l], c = pp[l]
            let old = childSummary(n, c)
            if old == s { return }
            setChildSummary(n, c, s)
            if l == 0 || GapTree.keeps(childSummary(pn[l &- 1], pp[l &- 1]), old: old, new: s) { return }
            s = innerSummary(n)
            l &-= 1
        }
    }

    /// The node at `level` of a path has a new smallest pfn_lo: store it in its parent, and so up while the node
    /// is a first child.
    @inline(__always) func setSmallest(from level: Int, _ key: UInt64, _ pn: UnsafeMutablePointer<UInt32>,
                                       _ pp: UnsafeMutablePointer<Int>) {
        var l = level &- 1
        while l >= 0 {
            (base(pn[l]) + pp[l] &<< 5).storeBytes(of: key, as: UInt64.self)
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
        setMainCurrent()
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

    /// The highest node whose pfn_lo is below `key`, or `none`; leaves the cursors alone.
    func highest(loBelow key: UInt64) -> UInt32 {
        if key == 0 { return NodePool.none }
        let leaf = descend(key &- 1, auxNode, auxPos)
        let s = lastPosition(atMost: key &- 1, inLeaf: leaf)
        return s < 0 ? NodePool.none : leafIndex(leaf, s)
    }

    /// Kernel: `rb_prev`.
    @inline(__always) func predecessor(_ i: UInt32) -> UInt32 { highest(loBelow: lo(i)) }

    /// Kernel: `rb_next` (`none` after the highest node; the caller maps that to the anchor). Leaves the cursors
    /// alone.
    func successor(_ i: UInt32) -> UInt32 {
        let leaf = descend(lo(i), auxNode, auxPos)
        return entry(after: position(of: i, inLeaf: leaf))
    }

    // MARK: The allocation search

    /// Search down from the main cursor's slot (inclusive) for the highest entry whose gap takes `req` (the
    /// kernel's stop: `(pfn_lo - size) & align_mask` inside the gap), skipping every subtree whose summary does not
    /// admit the request; `none` when there is none, or when the search reaches an entry with pfn_lo below
    /// `floor` (nothing there can succeed). Leaves the main cursor at the entry found. O(log n) node visits plus
    /// the subtrees that admit the request without holding a fit (`misalignedGaps`; inexact requests only).
    mutating func searchDown(_ req: Request, floor: UInt64) -> UInt32 {
        let leafLevel = levels &- 1
        let pn = pathNode, pp = pathPos
        let key = req.key, value = req.value
        var l = leafLevel
        var j = pp[leafLevel]
        // Most often the entry at the cursor (the kernel's cached node) takes the request itself.
        if j >= 0 && j < GapTree.leafCapacity {
            let n = pn[l], w = leafWord(n, j)
            if w & key >= value {
                let i = leafIndex(n, j)
                let clo = lo(i)
                if clo < floor {
                    setMainStale()
                    return NodePool.none
                }
                if req.exact || fits(i, clo, w, req, leaf: n, slot: j) { return i }
                misalignedGaps &+= 1
            }
            j &-= 1
        }
        walk: while true {
            let n = pn[l], nb = base(n)
            if l == leafLevel {
                // Without a branch per slot: the slots that admit the request.
                var m: UInt32 = 0
                for c in 0..<GapTree.cells {
                    let w = GapTree.low(nb + c &<< 5)
                    m |= (UInt32(truncatingIfNeeded: w) & key >= value ? 1 : 0) &<< UInt32(2 &* c)
                        | (UInt32(truncatingIfNeeded: w &>> 32) & key >= value ? 1 : 0) &<< UInt32(2 &* c &+ 1)
                }
                // Those at or below j, highest first.
                var admitted = m & GapTree.below(j &+ 1)
                while admitted != 0 {
                    let t = 31 &- admitted.leadingZeroBitCount
                    admitted &= ~(1 &<< UInt32(t))
                    let i = leafIndex(n, t)
                    let clo = lo(i)
                    if clo < floor { break walk }
                    if req.exact || fits(i, clo, leafWord(n, t), req, leaf: n, slot: t) {
                        pp[l] = t
                        return i
                    }
                    misalignedGaps &+= 1
                }
            } else {
                var m: UInt32 = 0
                for c in 0..<GapTree.cells {
                    let w = (nb + c &<< 5).loadUnaligned(fromByteOffset: 11, as: UInt32.self)
                    m |= (w & key >= value ? 1 : 0) &<< UInt32(c)
                }
                // The rightmost child at or left of j that admits the request.
                m &= GapTree.below(j &+ 1)
                if m != 0 {
                    j = 31 &- m.leadingZeroBitCount
                    // Every pfn_lo in child j is below the next child's smallest.
                    if j &+ 1 < GapTree.cells && GapTree.low(nb + (j &+ 1) &<< 5) <= floor { break walk }
                    pp[l] = j
                    l &+= 1
                    pn[l] = childRef(n, j)
                    j = (l == leafLevel ? GapTree.leafCapacity : GapTree.innerCapacity) &- 1
                    continue
                }
            }
            // This node is exhausted: go on left of it in its parent.
            if l == 0 { break walk }
            l &-= 1
            let left = pp[l]
            if childKey(pn[l], left) <= floor { break walk }
            j = left &- 1
        }
        // The path may now end above the leaf level.
        setMainStale()
        return NodePool.none
    }

    /// Whether the gap below entry `i` (pfn_lo `clo`, word `w`, at slot `slot` of leaf `leaf`) holds the kernel's
    /// candidate `(clo - size) & align_mask`: inside [first free pfn, pfn_lo), exactly from the stored gap unless
    /// it is saturated, then from the predecessor.
    @inline(__always) mutating func fits(_ i: UInt32, _ clo: UInt64, _ w: UInt32, _ req: Request, leaf: UInt32,
                                         slot: Int) -> Bool {
        let new = (clo &- req.size) & req.alignMask
        let g = w & GapTree.saturated
        if g < GapTree.saturated { return new >= clo &- UInt64(g) }
        return fitsAboveSaturated(i, clo, new, req.size, leaf: leaf, slot: slot)
    }

    /// `fits` for a saturated gap: from the predecessor's pfn_hi. (Mutating only so that the tree is passed by
    /// reference, not copied.)
    @inline(never) mutating func fitsAboveSaturated(_ i: UInt32, _ clo: UInt64, _ new: UInt64, _ size: UInt64,
                                                    leaf: UInt32, slot: Int) -> Bool {
        let ps = previousSlot(leaf, from: slot &- 1)
        let p = ps >= 0 ? leafIndex(leaf, ps) : predecessor(i)
        if p == NodePool.none { return true }
        let ph = hi(p)
        return clo &- ph &- 1 >= size && new > ph
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
            let i = leafIndex(n, s)
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
        let pn = pathNode, pp = pathPos
        let leaf = pn[leafLevel]
        let s = pp[leafLevel]
        let zlo = lo(z), zhi = hi(z)
        let filled = GapTree.occupancy(base(leaf))
        let fromS = filled & ~GapTree.below(s), beforeS = filled & GapTree.below(s)
        // The successor: the first entry at or after s, else the first of the next leaf (on the second path).
        let ss = fromS == 0 ? cap : fromS.trailingZeroBitCount
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
        let ps = beforeS == 0 ? -1 : 31 &- beforeS.leadingZeroBitCount
        let zGap: UInt64
        if succ != NodePool.none && GapTree.gap(succWord) < GapTree.saturated {
            zGap = zlo &- succLo &+ UInt64(GapTree.gap(succWord))
        } else {
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
            // The successor's gap shrank in the next leaf.
            let an = auxNode, ap = auxPos
            setSlotWord(an[leafLevel], ap[leafLevel], newSuccWord)
            if leafLevel > 0 && !GapTree.keeps(childSummary(an[leafLevel &- 1], ap[leafLevel &- 1]), old: succWord,
                                               new: newSuccWord) {
                propagateShrink(from: leafLevel, leafSummary(an[leafLevel]), an, ap)
            }
        }
        // A hole next to the place, else the nearest one, the entries between moving over.
        var zs = -1
        var moved = false
        if s > 0 && ps < s &- 1 {
            zs = s &- 1                                 // slot s - 1 is empty
        } else if s < cap && ss > s {
            zs = s                                      // slot s is empty
        } else if filled != 0xffff {
            // Slots s - 1 and s are filled: the nearest hole left of s - 1 or right of s.
            moved = true
            let holes = ~filled & 0xffff
            let left = s > 1 ? holes & GapTree.below(s &- 1) : 0, right = holes & ~GapTree.below(s &+ 1)
            let hl = left == 0 ? -1 : 31 &- left.leadingZeroBitCount
            let hr = right == 0 ? cap : right.trailingZeroBitCount
            if hl >= 0 && (hr >= cap || s &- 1 &- hl <= hr &- s) {
                for t in hl..<(s &- 1) { setSlot(leaf, t, leafIndex(leaf, t &+ 1), leafWord(leaf, t &+ 1)) }
                zs = s &- 1
            } else {
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
            // After a move the successor is right after z; z is first only if nothing was before s.
            if !succElsewhere && succ != NodePool.none { setSlotWord(leaf, moved ? zs &+ 1 : ss, newSuccWord) }
            if ps < 0 && !(moved && zs == s &- 1) { setSmallest(from: leafLevel, zlo, pn, pp) }
            pp[leafLevel] = zs
            if leafLevel > 0 {
                let old = childSummary(pn[leafLevel &- 1], pp[leafLevel &- 1])
                if succElsewhere || succ == NodePool.none {
                    // Only z's gap is new here.
                    propagateGrowth(from: leafLevel, GapTree.combine(old, zWord), pn, pp)
                } else if !GapTree.keeps(old, old: succWord, new: GapTree.combine(zWord, newSuccWord)) {
                    // The successor's gap was split in two pieces that do not keep what only it held here.
                    propagateShrink(from: leafLevel, leafSummary(leaf), pn, pp)
                }
            }
            // The path to z becomes the hint (the kernel's cached node is z now).
            setMainCurrent()
            swapPaths()
            return
        }
        // The leaf is full: split it, the left part staying, the right part going to a new leaf.
        let b = entries
        _ = loadLeaf(leaf, b)
        var at = 0                                      // entries before slot s
        for t in 0..<s where leafWord(leaf, t) != 0 { at &+= 1 }
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
    /// is not in the tree. `z`'s pfn_lo and pfn_hi are left as they were; the main cursor is left at the
    /// successor when it is in z's leaf. Kernel: `rb_erase`, with `rb_next` taken before.
    mutating func remove(_ z: UInt32) -> UInt32? {
        let zlo = lo(z), zhi = hi(z)
        let leafLevel = levels &- 1
        let pn = pathNode, pp = pathPos
        let leaf = descend(zlo, pn, pp)
        let s = position(of: z, inLeaf: leaf)
        guard s >= 0 else {
            setMainStale()
            return nil
        }
        setMainCurrent()
        let filled = GapTree.occupancy(base(leaf))
        let zw = leafWord(leaf, s)
        // The successor takes over z's range and the gap below z: its gap grows by both (saturating).
        let (sum, overflow) = (zhi &- zlo &+ 1).addingReportingOverflow(UInt64(GapTree.gap(zw)))
        let merged = overflow ? ~0 : sum
        setSlot(leaf, s, 0, 0)
        count &-= 1
        let after = filled & ~GapTree.below(s &+ 1)
        let first = filled & GapTree.below(s) == 0
        let used = filled.nonzeroBitCount &- 1
        var succ = NodePool.none
        var succWord: UInt32 = 0
        pp[leafLevel] = s
        if after != 0 {
            let ss = after.trailingZeroBitCount
            succ = leafIndex(leaf, ss)
            let old = leafWord(leaf, ss)
            succWord = grown(old, by: merged, after: zhi)
            setSlotWord(leaf, ss, succWord)
            pp[leafLevel] = ss
            if first {
                // The successor is the leaf's first now; its pfn_lo follows from its old gap when that is exact.
                let g = UInt64(GapTree.gap(old))
                setSmallest(from: leafLevel, g < UInt64(GapTree.saturated) ? zhi &+ 1 &+ g : lo(succ), pn, pp)
            }
        } else {
            copyPath()
            let an = auxNode, ap = auxPos
            if nextLeaf(an, ap) {
                let nl = an[leafLevel], ns = ap[leafLevel]
                succ = leafIndex(nl, ns)
                let w = grown(leafWord(nl, ns), by: merged, after: zhi)
                setSlotWord(nl, ns, w)
                if leafLevel > 0 {
                    let old = childSummary(an[leafLevel &- 1], ap[leafLevel &- 1])
                    propagateGrowth(from: leafLevel, GapTree.combine(old, w), an, ap)
                }
            }
        }
        if levels == 1 { return succ }
        if used >= GapTree.leafMinimum {
            let old = childSummary(pn[leafLevel &- 1], pp[leafLevel &- 1])
            if after != 0 {
                // A successor here took over z's gap and range: its new gap contains z's and its own old one.
                propagateGrowth(from: leafLevel, GapTree.combine(old, succWord), pn, pp)
            } else if !GapTree.keeps(old, old: zw, new: 0) {
                // z's gap left this leaf.
                propagateShrink(from: leafLevel, leafSummary(leaf), pn, pp)
            }
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
                if lu &+ ru <= GapTree.leafMergeLimit {
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
        shape &+= 1
        setMainStale()
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
