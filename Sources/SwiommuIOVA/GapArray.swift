// The allocations of a domain in one array ordered by address, highest first, with empty positions between them
// (a gapped array), under implicit 16-ary summary levels: each position holds an allocation's handle and the
// gap word of the free granules below it, each summary the largest gap and the fit bits of 16 below it, so that
// "the highest allocation at or below X whose gap takes this request" climbs and descends the levels by index
// arithmetic alone, scanning 16 words per level, where the kernel walks node by node.
import CKernel
import CSwiommuGlue
import Glibc

/// The index of a domain's allocations. Kernel: the `rbroot` rbtree of `struct iova_domain`, with `rb_prev`,
/// `rb_next`, `iova_insert_rbtree`, `rb_erase`, `private_find_iova`.
///
/// Positions: position 0 holds the anchor (at ~0UL, above everything), then the allocations in descending order
/// of address, with empty positions anywhere between them; `end` is one past the last occupied one. Each
/// allocation knows its position (`NodePool.slotOf`). An insertion takes an empty position between its
/// neighbours (the middle one), or shifts the few entries up to the nearest empty one, or, when none is near,
/// spreads out the entries of the smallest surrounding window that has room (as a packed-memory array does), so
/// that moves stay few per insertion. A removal empties its position. When the array holds too many empty
/// positions for its allocations, a sweep packs it again, a few positions per update (no pause).
///
/// Level 0 is the positions' gap words; level k holds the summary of 16^k positions at index p >> 4k. Each
/// position also has a bit in `occupancy`, and level k >= 1 of `notLo` holds ~(a lower bound of the lowest
/// pfn_lo) of its positions, for lookups by pfn: lowered without reading any struct iova when an entry arrives
/// (to its own pfn_lo, or to the bound of the block it left), never raised when one leaves; a lookup that finds
/// a block's bound too low makes it exact again.
///
/// A gap word: bits 0-19 the free granules between an allocation and the one below it (for the lowest, its
/// pfn_lo: the granules from 0), saturated; bits 20-31 the gap's fit bits, of which bit 20 (`present`) is set in
/// every entry, so that a position is empty exactly when its word is 0. A summary has the largest gap and the OR
/// of the fit bits (the anchor's word is 0: searches never start at it).
///
/// Fit bits: for a gap of free granules [a, b) and k in 1...6, let u = b - (a rounded up to a multiple of 2^k),
/// the run that starts at the lowest 2^k-aligned pfn. Bit k-1 ("half") is set when u > 2^(k-1), bit 5+k ("full")
/// when u >= 2^k. A request of s granules aligned to 2^k (2^(k-1) < s <= 2^k) fits the gap exactly when u >= s;
/// so "full" decides it for s = 2^k and "half" is necessary for the rest. Bit 0 ("half" for k = 1: u > 1) always
/// equals bit 6, and no request asks for it: it is the `present` bit instead. Gaps of 2^20 - 1 granules or more
/// are stored saturated, with every fit bit set.
///
/// What a search costs: one climb and one descent of the levels (O(log n) words scanned 16 at a time) to the
/// first allocation whose gap takes the request. Not logarithmic: a summary can admit a request that none of its
/// gaps takes (its largest gap and its fit bit from different positions, or an inexact request: a size-aligned
/// request that is not a power of two, e.g. 6 aligned to 8, of more than 64 granules, or of 2^20 granules or
/// more); each such block or gap costs one more descent (`misalignedGaps`). An insertion costs the moves of its
/// shift or window, amortized O(log^2 n) moves as in a packed-memory array, in practice about one.
///
/// Callers hold the domain's lock, except `findLockFree`.
struct GapArray {
    static let saturated: UInt32 = 0xf_ffff
    static let fitClasses = 6
    static let allFitBits: UInt32 = 0xfff
    /// Fit bit 0 of a word, set in every entry (see above).
    static let present: UInt32 = 1 &<< 20
    /// Levels: 0 the positions, k the summaries of 16^k positions.
    static let levels = 7
    /// The entries the top level may hold (scanned 16 at a time): fewer levels to keep than with 16.
    static let topEntries: UInt32 = 64
    /// Positions: 2^27 (twice the handles, `NodePool.maxIndex`); the top level then has 8 summaries.
    static let positionShift = 27
    /// The largest window a rebalance spreads out, and how far past `end` it may reach (an eighth of it).
    static let largestWindow: UInt32 = 1 &<< 20
    /// An insertion shifts at most this many entries to the nearest empty position; further, it spreads out a
    /// window instead.
    static let nearShift: UInt32 = 64
    /// A window is spread out when at most 7/8 full.
    static let windowFill: UInt32 = 8
    /// Appending below the lowest allocation leaves an empty position after every 5 (80% full: the memory of 1.25
    /// positions per allocation at most).
    static let appendGap = 5
    /// The sweep starts when the positions exceed the allocations by a third (and 256), and leaves an empty
    /// position after every 4 entries.
    static let sweepAt = 3
    static let sweepKeep = 4
    static let sweepStep: UInt32 = 32

    var pool: NodePool
    /// Positions available (the reservation), and the reservation.
    let capacity: UInt32
    let mapping: UnsafeMutableRawPointer
    let mappingBytes: Int
    /// Level k's words (k = 0: the positions' gap words) and level k's ~lowest pfn_lo (k >= 1).
    let wordLevels: UnsafeMutablePointer<UnsafeMutablePointer<UInt32>>
    let notLoLevels: UnsafeMutablePointer<UnsafeMutablePointer<UInt64>>
    let words: UnsafeMutablePointer<UInt32>
    let ids: UnsafeMutablePointer<UInt32>
    let occupancy: UnsafeMutablePointer<UInt64>
    /// Scratch for a rebalance: handle | word << 32 of a window's entries.
    let scratch: UnsafeMutablePointer<UInt64>
    /// One past the last occupied position, and the most it ever was (the memory touched).
    var end: UInt32 = 1
    /// The highest level kept: levels 1 ... top are maintained, and the first `topEntries` entries of level `top`
    /// cover every position below `end` (end <= 64 * 16^top); the levels above are not read.
    var top = 1
    /// `span(top)`: an `end` past it raises the top level.
    var raiseAt = GapArray.span(1)
    var highWater: UInt32 = 1
    var count = 0
    /// Gaps or blocks that admitted a request without holding it: the searches' non-logarithmic steps.
    var misalignedGaps = 0
    /// Where `insert` puts the next node: just below the entry at this position (0: the anchor), and that entry's
    /// pfn_lo when the search read it (~0: not known).
    var insertionAbove: UInt32 = 0
    var insertionLo: UInt64 = ~0
    /// The pfn_lo of one node, known without reading its struct iova: the successor of the node last removed,
    /// whose pfn_lo followed from its gap. The kernel's cached node is that successor, and the next search most
    /// often stops at it: its struct iova, elsewhere in memory, is then not read at all.
    var knownHandle: UInt32 = 0
    var knownLo: UInt64 = 0
    /// Where that node was then (valid while `ids` there still names it).
    var knownPosition: UInt32 = 0
    /// Entries appended below the lowest allocation (every `appendGap`-th leaves an empty position).
    var appended = 0
    /// The sweep: positions below `sweepWrite` are packed, [sweepWrite, sweepRead) is empty, the rest waits.
    var sweeping = false
    var sweepWrite: UInt32 = 0
    var sweepRead: UInt32 = 0
    var sweepKept = 0
    /// Moves of entries between positions (shifts, rebalances, the sweep): `insert` compares it before and after
    /// `place` to learn whether entries moved.
    var moves = 0
    /// The positions a shift in `place` moved entries between (their summaries are the caller's to fix).
    var movedLow: UInt32 = 0
    var movedHigh: UInt32 = 0
    /// `GapArray.fitLevels` and `GapArray.chainBits`, copied.
    let fitLevels: UnsafePointer<UInt8> = GapArray.fitLevels
    let chainBits: UnsafePointer<UInt32> = GapArray.chainBits

    /// The layout of the reservation for `capacity` positions: the byte offset of each array.
    struct Layout {
        var words = [Int](repeating: 0, count: GapArray.levels)
        var notLo = [Int](repeating: 0, count: GapArray.levels)
        var ids = 0, occupancy = 0, scratch = 0, bytes = 0

        init(capacity: Int) {
            var o = 0
            func take(_ n: Int) -> Int {
                let at = o
                o = (o + n + 4095) & ~4095
                return at
            }
            for k in 0..<GapArray.levels { words[k] = take(((capacity >> (4 * k)) + 32) * 4) }
            for k in 1..<GapArray.levels { notLo[k] = take(((capacity >> (4 * k)) + 32) * 8) }
            ids = take((capacity + 32) * 4)
            occupancy = take((capacity / 64 + 8) * 8)
            scratch = take(Int(GapArray.largestWindow) * 8)
            bytes = o
        }
    }

    init?() {
        guard let p = NodePool() else { return nil }
        var shift = GapArray.positionShift
        var m: UnsafeMutableRawPointer? = nil
        var layout: Layout? = nil
        // Position capacity follows the pool's handles (twice as many), down to what the system allows.
        while shift > 12 && (1 << shift) > 2 * Int(p.capacity) { shift -= 1 }
        while shift >= 12 {
            let l = Layout(capacity: 1 << shift)
            let r = mmap(nil, l.bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
            if let r, r != MAP_FAILED {
                m = r
                layout = l
                break
            }
            shift -= 1
        }
        guard let m, let layout else {
            p.destroy()
            return nil
        }
        pool = p
        mapping = m
        mappingBytes = layout.bytes
        capacity = UInt32(1 << shift)
        wordLevels = .allocate(capacity: GapArray.levels)
        notLoLevels = .allocate(capacity: GapArray.levels)
        for k in 0..<GapArray.levels {
            wordLevels[k] = (m + layout.words[k]).bindMemory(to: UInt32.self, capacity: 1)
            notLoLevels[k] = (m + layout.notLo[max(k, 1)]).bindMemory(to: UInt64.self, capacity: 1)
        }
        words = wordLevels[0]
        ids = (m + layout.ids).bindMemory(to: UInt32.self, capacity: Int(capacity) + 32)
        occupancy = (m + layout.occupancy).bindMemory(to: UInt64.self, capacity: Int(capacity) / 64 + 8)
        scratch = (m + layout.scratch).bindMemory(to: UInt64.self, capacity: Int(GapArray.largestWindow))
        // The anchor: position 0, word 0 (never a search's candidate), the highest pfn_lo.
        ids[0] = NodePool.anchor
        pool.slotOf[Int(NodePool.anchor)] = 0
        setOccupied(0)
    }

    func destroy() {
        pool.destroy()
        munmap(mapping, mappingBytes)
        wordLevels.deallocate()
        notLoLevels.deallocate()
    }

    // MARK: Handles

    @inline(__always) func node(_ i: UInt32) -> UnsafeMutablePointer<iova> { pool.node(i) }
    @inline(__always) func lo(_ i: UInt32) -> UInt64 { UInt64(node(i).pointee.pfn_lo) }
    @inline(__always) func hi(_ i: UInt32) -> UInt64 { UInt64(node(i).pointee.pfn_hi) }
    /// Node `i`'s pfn_lo, from `knownLo` when it is that node's.
    @inline(__always) func loKnown(_ i: UInt32) -> UInt64 { i == knownHandle ? knownLo : lo(i) }

    /// The position of handle `i`.
    @inline(__always) func position(_ i: UInt32) -> UInt32 { pool.slotOf[Int(truncatingIfNeeded: i)] }
    /// Handle `i`'s position, without reading `slotOf` when it is the known node and has not moved.
    @inline(__always) func positionKnown(_ i: UInt32) -> UInt32 {
        if i == knownHandle && ids[Int(truncatingIfNeeded: knownPosition)] == i { return knownPosition }
        return position(i)
    }

    /// Whether handle `i` is in the array (at the position it records).
    @inline(__always) func contains(_ i: UInt32) -> Bool {
        let s = positionKnown(i)
        return s != 0 && s < end && ids[Int(truncatingIfNeeded: s)] == i
    }

    // MARK: Gap words

    /// The gap word of `g` free granules below pfn_lo `lo` (saturated here).
    @inline(__always) func gapWord(lo: UInt64, gap g: UInt64) -> UInt32 {
        if g >= 127 {
            let s = g >= UInt64(GapArray.saturated) ? GapArray.saturated : UInt32(truncatingIfNeeded: g)
            return s | GapArray.allFitBits &<< 20
        }
        let up = Int(truncatingIfNeeded: (0 &- (lo &- g)) & 63)
        let level = fitLevels[up &<< 7 | Int(truncatingIfNeeded: g)]
        return UInt32(truncatingIfNeeded: g) | chainBits[Int(truncatingIfNeeded: level)]
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

    /// The fit bits (bits 0-11) in the order each implies the ones before: full 2, half 4, full 4, ... full 64.
    static let chain: [UInt32] = [6, 1, 7, 2, 8, 3, 9, 4, 10, 5, 11]

    /// The word bits of each level of the chain: `present` and the first `level` bits of `chain`, in place.
    nonisolated(unsafe) static let chainBits: UnsafePointer<UInt32> = {
        let t = UnsafeMutablePointer<UInt32>.allocate(capacity: chain.count + 1)
        var bits: UInt32 = 1
        for level in 0...chain.count {
            t[level] = bits &<< 20
            if level < chain.count { bits |= 1 &<< chain[level] }
        }
        return UnsafePointer(t)
    }()

    /// The chain level of `fitBits` of gaps below 128 granules, by the low 6 bits of -(the gap's first pfn) and
    /// the gap: 8 KiB, so that it stays in the L1 cache more often than the bits themselves would.
    nonisolated(unsafe) static let fitLevels: UnsafePointer<UInt8> = {
        let t = UnsafeMutablePointer<UInt8>.allocate(capacity: 64 * 128)
        for up in 0..<64 {
            for g in 0..<128 {
                // A gap of g ending at b = g - up (mod 64) starts at -up.
                let bits = fitBits(lo: UInt64(g) &- UInt64(up), gap: UInt64(g))
                let level = (bits & ~1).nonzeroBitCount
                precondition(chainBits[level] == bits &<< 20, "fit bits \(bits) are not a prefix of the chain")
                t[up << 7 | g] = UInt8(level)
            }
        }
        return UnsafePointer(t)
    }()

    /// Combine two summary words: max of the gaps, OR of the fit bits.
    @inline(__always) static func combine(_ a: UInt32, _ b: UInt32) -> UInt32 {
        max(a & saturated, b & saturated) | ((a | b) & ~saturated)
    }

    /// Whether a summary `p` combining `old` with others stays the same when `old` shrinks to `new` (a gap inside
    /// it): unless `old` held p's largest gap and `new` does not keep it, or held p's top fit bit and `new` does
    /// not keep it. The fit bits of a gap are always a prefix of one chain (full 2, half 4, full 4, half 8, ...
    /// full 64: each implies the ones before it), so a p showing a bit that `old` lacks has it from another gap,
    /// which then has every bit `old` had.
    @inline(__always) static func keeps(_ p: UInt32, old: UInt32, new: UInt32) -> Bool {
        let gapLost = old & saturated == p & saturated && new & saturated < old & saturated
        let fitLost = old & ~saturated == p & ~saturated && new & ~saturated != old & ~saturated
        return !(gapLost || fitLost)
    }

    /// A search request: the gap an entry must have (`need`, saturated, at least 1) and the word bit it must show
    /// (`bit`: an alignment class's fit bit, or `present`), both necessary; `exact` when they are also sufficient
    /// (no aligned start to check). `size` and `alignMask` are the kernel's. An empty position (word 0) admits
    /// nothing.
    struct Request {
        var need: UInt32
        var bit: UInt32
        var exact: Bool
        var size: UInt64
        var alignMask: UInt64
        /// A word admits the request when `w & key >= value`.
        @inline(__always) var key: UInt32 { bit | GapArray.saturated }
        @inline(__always) var value: UInt32 { bit | need }

        @inline(__always) init(size: UInt64, alignMask: UInt64) {
            let sat = GapArray.saturated
            self.size = size
            self.alignMask = alignMask
            need = size >= UInt64(sat) ? sat : UInt32(truncatingIfNeeded: size)
            bit = GapArray.present
            exact = size < UInt64(sat)
            let k = Log2.fls(size &- 1)
            if alignMask != ~0 && k >= 1 {
                if k <= GapArray.fitClasses {
                    let pow2 = size == UInt64(1) &<< UInt64(k)
                    bit = (pow2 ? 1 &<< UInt32(5 &+ k) : 1 &<< UInt32(k &- 1)) &<< 20
                    exact = exact && pow2
                } else {
                    exact = false
                }
            }
        }
    }

    // MARK: Occupancy

    @inline(__always) func occupied(_ s: UInt32) -> Bool {
        occupancy[Int(truncatingIfNeeded: s &>> 6)] &>> UInt64(s & 63) & 1 != 0
    }
    @inline(__always) func setOccupied(_ s: UInt32) {
        occupancy[Int(truncatingIfNeeded: s &>> 6)] |= 1 &<< UInt64(s & 63)
    }
    @inline(__always) func clearOccupied(_ s: UInt32) {
        occupancy[Int(truncatingIfNeeded: s &>> 6)] &= ~(1 &<< UInt64(s & 63))
    }
    /// The occupancy bits of the 16 positions of block `b` (level 1).
    @inline(__always) func blockOccupancy(_ b: UInt32) -> UInt32 {
        UInt32(truncatingIfNeeded: occupancy[Int(truncatingIfNeeded: b &>> 2)] &>> UInt64((b & 3) &<< 4)) & 0xffff
    }

    /// The nearest occupied position above `s` (a lower index, a higher address); s > 0 (the anchor's is 0).
    @inline(__always) func previousOccupied(_ s: UInt32) -> UInt32 {
        var i = Int(truncatingIfNeeded: (s &- 1) &>> 6)
        var m = occupancy[i] & (~0 &>> UInt64(63 &- ((s &- 1) & 63)))
        while m == 0 {
            i &-= 1
            m = occupancy[i]
        }
        return UInt32(truncatingIfNeeded: i &* 64 &+ 63 &- m.leadingZeroBitCount)
    }

    /// The nearest occupied position below `s` (a higher index), or `end`.
    @inline(__always) func nextOccupied(_ s: UInt32) -> UInt32 {
        let t = s &+ 1
        if t >= end { return end }
        var i = Int(truncatingIfNeeded: t &>> 6)
        var m = occupancy[i] & (~0 &<< UInt64(t & 63))
        let last = Int(truncatingIfNeeded: (end &- 1) &>> 6)
        while m == 0 {
            i &+= 1
            if i > last { return end }
            m = occupancy[i]
        }
        return min(UInt32(truncatingIfNeeded: i &* 64 &+ m.trailingZeroBitCount), end)
    }

    /// The nearest empty position below `s` (beyond `end` if need be).
    @inline(__always) func nextEmpty(_ s: UInt32) -> UInt32 {
        var i = Int(truncatingIfNeeded: (s &+ 1) &>> 6)
        var m = ~occupancy[i] & (~0 &<< UInt64((s &+ 1) & 63))
        while m == 0 {
            i &+= 1
            m = ~occupancy[i]
        }
        return UInt32(truncatingIfNeeded: i &* 64 &+ m.trailingZeroBitCount)
    }

    /// The nearest empty position above `s`, or 0 if none.
    @inline(__always) func previousEmpty(_ s: UInt32) -> UInt32 {
        if s <= 1 { return 0 }
        var i = Int(truncatingIfNeeded: (s &- 1) &>> 6)
        var m = ~occupancy[i] & (~0 &>> UInt64(63 &- ((s &- 1) & 63)))
        while m == 0 {
            if i == 0 { return 0 }
            i &-= 1
            m = ~occupancy[i]
        }
        return UInt32(truncatingIfNeeded: i &* 64 &+ 63 &- m.leadingZeroBitCount)
    }

    // MARK: Summaries

    // Helpers that may not be inlined are `mutating` so that the array is passed by reference: a call of a
    // non-mutating one from a mutating method copies the whole struct first.

    /// Position `s`'s word changed: recompute the summaries above it while they change.
    @inline(__always) mutating func fixUp(_ s: UInt32) {
        var k = 1
        while k <= top {
            let b = Int(truncatingIfNeeded: s &>> UInt32(4 &* k))
            let w = swiommu_iova_combine16(wordLevels[k &- 1] + b &<< 4, GapArray.saturated)
            let level = wordLevels[k]
            if level[b] == w { return }
            level[b] = w
            k &+= 1
        }
    }

    /// Position `s`'s word shrank (or left): recompute its block's summary, then go up only while a summary
    /// that changed held its parent's largest gap or top fit bit (`keeps`).
    mutating func fixUpShrunk(_ s: UInt32) {
        let b = Int(truncatingIfNeeded: s &>> 4)
        let l1 = wordLevels[1]
        var old = l1[b]
        var new = swiommu_iova_combine16(words + b &<< 4, GapArray.saturated)
        if old == new { return }
        l1[b] = new
        var k = 2
        while k <= top {
            let c = Int(truncatingIfNeeded: s &>> UInt32(4 &* k))
            let level = wordLevels[k]
            let p = level[c]
            if GapArray.keeps(p, old: old, new: new) { return }
            old = p
            new = swiommu_iova_combine16(wordLevels[k &- 1] + c &<< 4, GapArray.saturated)
            if old == new { return }
            level[c] = new
            k &+= 1
        }
    }

    /// Position `s`'s word grew (every gap and fit bit it had, and more): merge it into the summaries above.
    @inline(__always) mutating func growUp(_ s: UInt32, _ w: UInt32) {
        var k = 1
        while k <= top {
            let b = Int(truncatingIfNeeded: s &>> UInt32(4 &* k))
            let level = wordLevels[k]
            let o = level[b], n = GapArray.combine(o, w)
            if o == n { return }
            level[b] = n
            k &+= 1
        }
    }

    /// An entry with pfn_lo `l` is at position `s` now: lower the bounds above it to `l` where they are higher.
    @inline(__always) mutating func lowerBound(_ s: UInt32, _ l: UInt64) { lowerBound(s, notLo: ~l) }

    /// The same with ~pfn_lo (or with another block's `notLo`, a bound of every entry that came from there).
    @inline(__always) mutating func lowerBound(_ s: UInt32, notLo v: UInt64) {
        var k = 1
        while k <= top {
            let c = Int(truncatingIfNeeded: s &>> UInt32(4 &* k))
            let level = notLoLevels[k]
            if level[c] >= v { return }
            level[c] = v
            k &+= 1
        }
    }

    /// Make block `b`'s bound exact again (the pfn_lo of its last entry): its bound was too low for a lookup.
    /// The levels above keep theirs (lower, still bounds).
    @inline(__always) mutating func exactBound(_ b: UInt32) {
        let o = blockOccupancy(b)
        notLoLevels[1][Int(truncatingIfNeeded: b)] =
            o == 0 ? 0 : ~lo(ids[Int(truncatingIfNeeded: b &<< 4 &+ UInt32(31 &- o.leadingZeroBitCount))])
    }

    /// The summaries of every block in positions [lo, hi].
    mutating func fixRange(_ lo: UInt32, _ hi: UInt32) {
        var t = lo & ~15
        while t <= hi {
            fixUp(t)
            t &+= 16
        }
    }

    // MARK: Lookups

    // The lookups below that may not be inlined are `mutating` only so that the array is passed by reference:
    // a non-mutating call through the domain's addressor copies the whole struct first.

    /// A climb found nothing in block `b` of level `k` at or after entry `i`: go on from the next block of the top
    /// level, or else from the parent's next entry. False when that lies past `end`.
    @inline(__always) func climb(_ k: inout Int, _ i: inout UInt32, after b: UInt32) -> Bool {
        if k == top {
            i = b &+ 16
        } else {
            k &+= 1
            i = (i &>> 4) &+ 1
        }
        return i &<< UInt32(4 &* k) < end
    }

    /// The first block (level 1 index) at or after block `from` whose bound admits `key` (~pfn), or UInt32.max:
    /// up the levels to the first entry at or after the path, then down its first admitting children; a parent
    /// whose children all have higher bounds now (made exact since) is skipped whole.
    @inline(__always) func firstBlock(from: UInt32, key: UInt64) -> UInt32 {
        var x = from
        restart: while true {
            if x &<< 4 >= end { return UInt32.max }
            var k = 1
            var i = x
            while true {
                let b = i & ~15
                let m = swiommu_iova_at_least_mask16(notLoLevels[k] + Int(truncatingIfNeeded: b), key)
                    & (0xffff &<< (i & 15))
                if m != 0 {
                    i = b &+ UInt32(m.trailingZeroBitCount)
                    break
                }
                if !climb(&k, &i, after: b) { return UInt32.max }
            }
            while k > 1 {
                k &-= 1
                i &<<= 4
                let m = swiommu_iova_at_least_mask16(notLoLevels[k] + Int(truncatingIfNeeded: i), key)
                if m == 0 {
                    x = (i &+ 16) &<< UInt32(4 &* (k &- 1))
                    continue restart
                }
                i &+= UInt32(m.trailingZeroBitCount)
            }
            return i
        }
    }

    /// The first position (the highest allocation) whose pfn_lo is at most `pfn`, or `end`; the anchor is never
    /// one (pfn < ~0). A block whose bound was too low is made exact on the way.
    mutating func firstAtMost(_ pfn: UInt64) -> UInt32 {
        if pfn == ~0 { return end }
        let key = ~pfn
        var b: UInt32 = 0
        while true {
            b = firstBlock(from: b, key: key)
            if b == UInt32.max { return end }
            var o = blockOccupancy(b)
            while o != 0 {
                let t = b &<< 4 &+ UInt32(o.trailingZeroBitCount)
                if lo(ids[Int(truncatingIfNeeded: t)]) <= pfn { return t }
                o &= o &- 1
            }
            exactBound(b)
            b &+= 1
        }
    }

    /// The node containing `pfn`, or `none`. Kernel: `private_find_iova`.
    mutating func find(containing pfn: UInt64) -> UInt32 {
        let t = firstAtMost(pfn)
        if t >= end { return NodePool.none }
        let i = ids[Int(truncatingIfNeeded: t)]
        return hi(i) >= pfn ? i : NodePool.none
    }

    /// The lowest node whose pfn_hi is at least `key`, or `none` (nodes do not overlap, so pfn_hi orders them too).
    mutating func lowest(hiAtLeast key: UInt64) -> UInt32 {
        let t = firstAtMost(key)
        if t < end && hi(ids[Int(truncatingIfNeeded: t)]) >= key { return ids[Int(truncatingIfNeeded: t)] }
        // The node above t (or the lowest of all when every node starts above key).
        let above = previousOccupied(min(t, end))
        return above == 0 ? NodePool.none : ids[Int(truncatingIfNeeded: above)]
    }

    /// The highest node whose pfn_lo is below `key`, or `none`.
    mutating func highest(loBelow key: UInt64) -> UInt32 {
        if key == 0 { return NodePool.none }
        let t = firstAtMost(key &- 1)
        return t < end ? ids[Int(truncatingIfNeeded: t)] : NodePool.none
    }

    /// Kernel: `rb_next` (`none` after the highest node; the caller maps that to the anchor).
    mutating func successor(_ i: UInt32) -> UInt32 {
        let t = previousOccupied(position(i))
        return t == 0 ? NodePool.none : ids[Int(truncatingIfNeeded: t)]
    }

    /// Point the insertion just above node `p` (just below its successor), or below every node when `p` is
    /// `none`: where a node goes that starts above p and below everything above p.
    mutating func setInsertion(above p: UInt32) {
        insertionLo = ~0
        if p == NodePool.none {
            insertionAbove = previousOccupied(end)
        } else {
            insertionAbove = previousOccupied(position(p))
        }
    }

    /// Point the insertion where node `z` (pfn_lo set) belongs, for `insert` by key (reserve_iova's new nodes).
    mutating func setInsertion(of z: UInt32) {
        setInsertion(above: highest(loBelow: lo(z)))
    }

    /// `find(containing:)` for a reader without the lock, which checks the result against the seqlock: every
    /// index is bounded before use, so an array changing underneath can give a wrong answer (`torn` or not) but
    /// never a fault or a loop.
    @inline(__always) func findLockFree(_ pfn: UInt64) -> (index: UInt32, torn: Bool) {
        if pfn == ~0 { return (NodePool.none, false) }
        guard top >= 1 && top < GapArray.levels && end <= capacity else { return (NodePool.none, true) }
        let key = ~pfn
        var b: UInt32 = 0
        // Blocks with bounds too low are rare (a lookup under the lock fixes each one it meets): a reader that
        // meets several gives up, and takes the lock.
        for _ in 0..<8 {
            b = firstBlock(from: b, key: key)
            if b == UInt32.max { return (NodePool.none, false) }
            guard b &<< 4 < capacity else { return (NodePool.none, true) }
            var o = blockOccupancy(b)
            while o != 0 {
                let t = b &<< 4 &+ UInt32(o.trailingZeroBitCount)
                let x = ids[Int(truncatingIfNeeded: t)]
                guard let p = pool.checkedNode(x) else { return (NodePool.none, true) }
                if UInt64(p.pointee.pfn_lo) <= pfn { return (x, false) }
                o &= o &- 1
            }
            b &+= 1
        }
        return (NodePool.none, true)
    }

    // MARK: The allocation search

    /// The lowest position at or after `x` whose word admits (key, value), or `end`: up the levels to the first
    /// block with an admitting entry at or after the path, then down its first admitting children. A block whose
    /// summary admits without any of its words doing so (gap and fit bit from different words) costs a restart
    /// after it.
    @inline(__always) mutating func firstAdmitting(from x: UInt32, key: UInt32, value: UInt32) -> UInt32 {
        var x = x
        restart: while true {
            var k = 0
            var i = x
            while true {
                let b = i & ~15
                let m = swiommu_iova_admit16(wordLevels[k] + Int(truncatingIfNeeded: b), key, value)
                    & (0xffff &<< (i & 15))
                if m != 0 {
                    i = b &+ UInt32(m.trailingZeroBitCount)
                    break
                }
                if !climb(&k, &i, after: b) { return end }
            }
            while k > 0 {
                k &-= 1
                i &<<= 4
                // The handles of the block of positions reached: their line loads while its words are scanned.
                if k == 0 { swiommu_iova_prefetch(ids + Int(truncatingIfNeeded: i)) }
                let m = swiommu_iova_admit16(wordLevels[k] + Int(truncatingIfNeeded: i), key, value)
                if m == 0 {
                    misalignedGaps &+= 1
                    x = (i &+ 16) &<< UInt32(4 &* k)
                    if x >= end { return end }
                    continue restart
                }
                i &+= UInt32(m.trailingZeroBitCount)
            }
            return min(i, end)
        }
    }

    /// Search down from node `start` (inclusive) for the highest node whose gap takes `req` (the kernel's stop:
    /// `(pfn_lo - size) & align_mask` inside the gap); `none` when there is none, or when the search reaches a
    /// node with pfn_lo below `floor` (nothing there can succeed). On success the insertion points below it.
    mutating func searchDown(from start: UInt32, _ req: Request, floor: UInt64) -> UInt32 {
        let key = req.key, value = req.value
        var j = positionKnown(start)
        while true {
            j = firstAdmitting(from: j, key: key, value: value)
            if j >= end { return NodePool.none }
            let i = ids[Int(truncatingIfNeeded: j)]
            let clo = loKnown(i)
            if clo < floor { return NodePool.none }
            if req.exact || fits(j, clo, words[Int(truncatingIfNeeded: j)], req) {
                insertionAbove = j
                insertionLo = clo
                return i
            }
            misalignedGaps &+= 1
            j &+= 1
        }
    }

    /// Whether the gap below the node at position `j` (pfn_lo `clo`, word `w`) holds the kernel's candidate
    /// `(clo - size) & align_mask`: inside [first free pfn, pfn_lo), exactly from the stored gap unless it is
    /// saturated, then from the predecessor.
    @inline(__always) func fits(_ j: UInt32, _ clo: UInt64, _ w: UInt32, _ req: Request) -> Bool {
        let new = (clo &- req.size) & req.alignMask
        let g = w & GapArray.saturated
        if g < GapArray.saturated { return new >= clo &- UInt64(g) }
        let p = nextOccupied(j)
        if p >= end { return true }
        let ph = hi(ids[Int(truncatingIfNeeded: p)])
        return clo &- ph &- 1 >= req.size && new > ph
    }

    /// The first free pfn below the node at position `s`, whose pfn_lo is `l`: its predecessor's pfn_hi + 1, or 0.
    @inline(__always) func bottom(_ s: UInt32, lo l: UInt64) -> UInt64 {
        let g = words[Int(truncatingIfNeeded: s)] & GapArray.saturated
        if g < GapArray.saturated { return l &- UInt64(g) }
        let p = nextOccupied(s)
        return p >= end ? 0 : hi(ids[Int(truncatingIfNeeded: p)]) &+ 1
    }

    // MARK: Updates

    /// Whether an insertion cannot run out of positions or handles.
    @inline(__always) var canInsert: Bool { UInt64(end) &+ UInt64(GapArray.largestWindow) &+ 64 < UInt64(capacity) }

    /// Insert node `z` (pfn_lo and pfn_hi set, overlapping nothing) just below the node at `insertionAbove`, which
    /// must be where its order puts it. Kernel: `iova_insert_rbtree`.
    mutating func insert(_ z: UInt32) {
        let a = insertionAbove
        let zlo = lo(z), zhi = hi(z)
        let p = nextOccupied(a)
        let ai = Int(truncatingIfNeeded: a)
        let succ = ids[ai]
        let b: UInt64
        var oldWord: UInt32 = 0, succWord: UInt32 = 0
        if a != 0 {
            let slo = insertionLo == ~0 ? lo(succ) : insertionLo
            oldWord = words[ai]
            b = bottom(a, lo: slo)
            succWord = gapWord(lo: slo, gap: slo &- zhi &- 1)
            words[ai] = succWord
        } else {
            b = p >= end ? 0 : hi(ids[Int(truncatingIfNeeded: p)]) &+ 1
        }
        let zw = gapWord(lo: zlo, gap: zlo &- b)
        insertionLo = ~0
        let movesBefore = moves
        let hasPredecessor = p < end
        movedLow = UInt32.max
        movedHigh = 0
        let s = place(z, zw, below: a, above: p)
        let moved = moves != movesBefore
        count &+= 1
        // Both new gaps lie inside the successor's old one: the successor's block summary changes only if that
        // gap held its largest gap or top fit bit; a block that gained z's word alone only grows.
        if moved {
            let sa = a != 0 ? position(succ) : 0
            // A shift or a rebalance: the blocks of the moved entries (a rebalance fixed its window's before z
            // was put), the successor's and z's.
            if movedLow <= movedHigh { fixRange(movedLow, movedHigh) }
            if a != 0 && !(movedLow <= sa && sa <= movedHigh) { fixUp(sa) }
            if !(movedLow <= s && s <= movedHigh) { fixUp(s) }
        } else if a != 0 && a &>> 4 == s &>> 4 {
            if !GapArray.keeps(wordLevels[1][Int(truncatingIfNeeded: s &>> 4)], old: oldWord,
                               new: GapArray.combine(succWord, zw)) { fixUpShrunk(s) }
        } else {
            if a != 0 && !GapArray.keeps(wordLevels[1][Int(truncatingIfNeeded: a &>> 4)], old: oldWord, new: succWord) {
                fixUpShrunk(a)
            }
            growUp(s, zw)
        }
        // z's pfn_lo is above its predecessor's: when that one stays below it in z's block, the block's bound
        // already bounds z.
        if moved || !hasPredecessor || p &>> 4 != s &>> 4 { lowerBound(s, zlo) }
        if end > raiseAt { raiseTop() }
        if sweeping { sweepStep() }
    }

    /// The positions the first `topEntries` entries of level `k` cover.
    @inline(__always) static func span(_ k: Int) -> UInt32 {
        k &+ 1 >= GapArray.levels ? UInt32.max : GapArray.topEntries &<< UInt32(4 &* k)
    }

    /// `end` grew past what level `top` covers: compute the levels above from the ones below.
    mutating func raiseTop() {
        while end > GapArray.span(top) && top &+ 1 < GapArray.levels {
            top &+= 1
            raiseAt = GapArray.span(top)
            for j in 0..<Int(truncatingIfNeeded: (end &- 1) &>> UInt32(4 &* top) &+ 1) {
                wordLevels[top][j] = swiommu_iova_combine16(wordLevels[top &- 1] + j &<< 4, GapArray.saturated)
                notLoLevels[top][j] = swiommu_iova_max16(notLoLevels[top &- 1] + j &<< 4)
            }
        }
    }

    /// Put handle `z` (word `w`) in a position between positions `a` (its successor's) and `p` (its
    /// predecessor's, or `end`), making room if there is none; returns the position.
    @inline(__always) mutating func place(_ z: UInt32, _ w: UInt32, below a: UInt32, above p: UInt32) -> UInt32 {
        var a = a, p = p
        var s: UInt32
        if p >= end {
            // Below the lowest node: an empty position after every few appended.
            appended &+= 1
            s = a &+ (appended % GapArray.appendGap == 0 ? 2 : 1)
            if s &+ 1 > end { end = s &+ 1 }
        } else if p > a &+ 1 {
            s = a &+ 1 &+ (p &- a &- 1) / 2
            // Not inside the sweep's empty run (it would be read again and moved).
            if sweeping && s >= sweepWrite && a &+ 1 <= sweepWrite { s = sweepWrite }
        } else {
            var e = nextEmpty(a), f = previousEmpty(a)
            if e &- p > GapArray.nearShift && (f == 0 || a &- f > GapArray.nearShift) {
                let succ = ids[Int(truncatingIfNeeded: a)]
                if rebalance(around: a) {
                    a = position(succ)
                    p = nextOccupied(a)
                    if p > a &+ 1 {
                        s = a &+ 1 &+ (p &- a &- 1) / 2
                        return put(z, w, at: s)
                    }
                    e = nextEmpty(a)
                    f = previousEmpty(a)
                }
            }
            if f != 0 && a &- f < e &- p {
                // Shift f+1 ... a up by one: the new node takes position a.
                var t = f
                while t < a {
                    move(t &+ 1, to: t)
                    t &+= 1
                }
                occupy(f)
                movedLow = f
                movedHigh = a
                s = a
            } else {
                var t = e
                while t > p {
                    move(t &- 1, to: t)
                    t &-= 1
                }
                if e >= end { end = e &+ 1 }
                occupy(e)
                movedLow = p
                movedHigh = e
                s = p
            }
        }
        return put(z, w, at: s)
    }

    @inline(__always) mutating func put(_ z: UInt32, _ w: UInt32, at s: UInt32) -> UInt32 {
        let si = Int(truncatingIfNeeded: s)
        words[si] = w
        ids[si] = z
        pool.slotOf[Int(truncatingIfNeeded: z)] = s
        setOccupied(s)
        occupy(s)
        if end > highWater { highWater = end }
        return s
    }

    /// Move the entry at position `f` to the empty position `t` (nothing occupied between them).
    @inline(__always) mutating func move(_ f: UInt32, to t: UInt32) {
        let fi = Int(truncatingIfNeeded: f), ti = Int(truncatingIfNeeded: t)
        let z = ids[fi]
        words[ti] = words[fi]
        ids[ti] = z
        pool.slotOf[Int(truncatingIfNeeded: z)] = t
        setOccupied(t)
        words[fi] = 0
        ids[fi] = 0
        clearOccupied(f)
        moves &+= 1
        // The bound of the block it left bounds its pfn_lo.
        if (f ^ t) &>> 4 != 0 { lowerBound(t, notLo: notLoLevels[1][Int(truncatingIfNeeded: f &>> 4)]) }
    }

    /// Position `s` was just occupied: keep the sweep's run [sweepWrite, sweepRead) empty (an entry inside it is
    /// read again).
    @inline(__always) mutating func occupy(_ s: UInt32) {
        if !sweeping || s < sweepWrite || s >= sweepRead { return }
        if s == sweepWrite { sweepWrite &+= 1 } else { sweepRead = s }
    }

    /// Spread the entries of the smallest aligned window around position `a` (64 positions, doubling; one that
    /// holds `end` may reach past it by an eighth of its size) that is at most 7/8 full evenly over it. False
    /// while sweeping (its empty run stays where it is), or when no window has room.
    mutating func rebalance(around a: UInt32) -> Bool {
        if sweeping { return false }
        var size: UInt32 = 64
        while size <= GapArray.largestWindow {
            defer { size &<<= 1 }
            var lo = a & ~(size &- 1)
            var hi = lo &+ size
            if lo == 0 { lo = 1 }                       // the anchor stays
            if hi > end &+ min(size / 8, 512) { hi = end &+ min(size / 8, 512) }
            if hi >= capacity { return false }
            var n: UInt32 = 0
            var t = lo
            while t < hi {
                if t & 63 == 0 && t &+ 64 <= hi {
                    n &+= UInt32(occupancy[Int(truncatingIfNeeded: t &>> 6)].nonzeroBitCount)
                    t &+= 64
                } else {
                    if occupied(t) { n &+= 1 }
                    t &+= 1
                }
            }
            if n &* GapArray.windowFill > (hi &- lo) &* (GapArray.windowFill &- 1) { continue }
            // A bound of every entry in the window, for each block they land in.
            var bound: UInt64 = 0
            var blk = lo &>> 4
            while blk <= (hi &- 1) &>> 4 {
                bound = max(bound, notLoLevels[1][Int(truncatingIfNeeded: blk)])
                blk &+= 1
            }
            var k = 0
            t = lo
            while t < hi && t < end {
                if occupied(t) {
                    let ti = Int(truncatingIfNeeded: t)
                    scratch[k] = UInt64(ids[ti]) | UInt64(words[ti]) &<< 32
                    k &+= 1
                    words[ti] = 0
                    ids[ti] = 0
                    clearOccupied(t)
                }
                t &+= 1
            }
            let width = UInt64(hi &- lo)
            for j in 0..<k {
                let t = lo &+ UInt32(truncatingIfNeeded: UInt64(j) &* width / UInt64(k) &+ width / UInt64(k) / 2)
                let e = scratch[j]
                let ti = Int(truncatingIfNeeded: t)
                ids[ti] = UInt32(truncatingIfNeeded: e)
                words[ti] = UInt32(truncatingIfNeeded: e &>> 32)
                pool.slotOf[Int(truncatingIfNeeded: UInt32(truncatingIfNeeded: e))] = t
                setOccupied(t)
                if t &+ 1 > end { end = t &+ 1 }
            }
            moves &+= k
            blk = lo &>> 4
            while blk <= (hi &- 1) &>> 4 {
                if blockOccupancy(blk) != 0 { lowerBound(blk &<< 4, notLo: bound) }
                blk &+= 1
            }
            if !occupied(end &- 1) { end = previousOccupied(end &- 1) &+ 1 }
            if end > highWater { highWater = end }
            fixRange(lo, hi &- 1)
            return true
        }
        return false
    }

    /// Unlink node `z` and return its successor (`none` if it was the highest); nil, changing nothing, when `z`
    /// is not in the array. `z`'s pfn_lo and pfn_hi are left as they were. Kernel: `rb_erase`, with `rb_next`
    /// taken before.
    mutating func remove(_ z: UInt32) -> UInt32? {
        guard contains(z) else { return nil }
        let s = position(z)
        let si = Int(truncatingIfNeeded: s)
        let a = previousOccupied(s)
        let succ = ids[Int(truncatingIfNeeded: a)]
        let zw = words[si]
        if a != 0 {
            let b = bottom(s, lo: lo(z))
            // The successor's pfn_lo from its gap when that is exact (no read of its struct iova).
            let sg = words[Int(truncatingIfNeeded: a)] & GapArray.saturated
            let slo = sg < GapArray.saturated ? hi(z) &+ 1 &+ UInt64(sg) : lo(succ)
            knownHandle = succ
            knownLo = slo
            knownPosition = a
            let w = gapWord(lo: slo, gap: slo &- b)
            words[Int(truncatingIfNeeded: a)] = w
            growUp(a, w)
        }
        if a == 0 && knownHandle == z { knownHandle = 0 }
        words[si] = 0
        ids[si] = 0
        clearOccupied(s)
        count &-= 1
        if s == end &- 1 { end = a &+ 1 }
        // A successor in the same block took over z's gap and more: the block's summary stays.
        if (a == 0 || a &>> 4 != s &>> 4)
            && !GapArray.keeps(wordLevels[1][Int(truncatingIfNeeded: s &>> 4)], old: zw, new: 0) { fixUpShrunk(s) }
        if sweeping {
            sweepStep()
        } else if Int(end) &* GapArray.sweepAt > count &* (GapArray.sweepAt &+ 1) &+ 256 &* GapArray.sweepAt {
            sweeping = true
            sweepWrite = 1
            sweepRead = 1
            sweepKept = 0
        }
        return succ == NodePool.anchor ? NodePool.none : succ
    }

    /// One step of the sweep that packs the positions (an empty one after every `sweepKeep` entries) and
    /// shortens the array: moves the entries of up to `sweepStep` positions from `sweepRead` to `sweepWrite`.
    mutating func sweepStep() {
        let from = sweepWrite
        let stop = sweepRead &+ GapArray.sweepStep
        while sweepRead < stop && sweepRead < end {
            if occupied(sweepRead) {
                if sweepKept >= GapArray.sweepKeep && sweepWrite < sweepRead {
                    sweepKept = 0
                    sweepWrite &+= 1
                }
                if sweepWrite < sweepRead { move(sweepRead, to: sweepWrite) }
                sweepWrite &+= 1
                sweepKept &+= 1
            }
            sweepRead &+= 1
        }
        if sweepRead > from { fixRange(from, sweepRead &- 1) }
        if sweepRead >= end {
            let old = end
            end = previousOccupied(end) &+ 1
            if old > end { fixRange(end, old &- 1) }
            sweeping = false
            releaseTail()
        }
    }

    /// Give the pages past the last occupied position (and a margin) back to the system: they hold only zeros,
    /// which is what an untouched page reads as. The memory the index holds then follows the allocations down.
    mutating func releaseTail() {
        let keep = Int(end) + 4096
        guard Int(highWater) > keep + 8192 else { return }
        func release(_ p: UnsafeMutableRawPointer, from: Int, to: Int) {
            let lo = (Int(bitPattern: p) + from + 4095) & ~4095, hi = (Int(bitPattern: p) + to) & ~4095
            if hi > lo { _ = madvise(UnsafeMutableRawPointer(bitPattern: lo), hi - lo, MADV_DONTNEED) }
        }
        let last = Int(highWater) + 64
        for k in 0..<GapArray.levels {
            release(UnsafeMutableRawPointer(wordLevels[k]), from: ((keep >> (4 * k)) + 16) * 4,
                    to: ((last >> (4 * k)) + 16) * 4)
            if k > 0 {
                release(UnsafeMutableRawPointer(notLoLevels[k]), from: ((keep >> (4 * k)) + 16) * 8,
                        to: ((last >> (4 * k)) + 16) * 8)
            }
        }
        release(UnsafeMutableRawPointer(ids), from: keep * 4, to: last * 4)
        release(UnsafeMutableRawPointer(occupancy), from: keep / 8, to: last / 8 + 8)
        highWater = UInt32(keep)
    }

    /// Lower node `z`'s pfn_lo to `newLo` (still above its predecessor). Kernel: `__adjust_overlap_range`.
    mutating func lowerStart(_ z: UInt32, to newLo: UInt64) {
        guard contains(z) else { return }
        let s = position(z)
        let b = bottom(s, lo: lo(z))
        node(z).pointee.pfn_lo = CUnsignedLong(newLo)
        if knownHandle == z { knownLo = newLo }
        words[Int(truncatingIfNeeded: s)] = gapWord(lo: newLo, gap: newLo &- b)
        fixUp(s)
        lowerBound(s, newLo)
    }

    // MARK: Whole array

    /// The levels in use (positions and summaries), 0 when empty (`swiommu_iova_stats.tree_height`).
    var height: Int { count == 0 ? 0 : top &+ 1 }

    /// Every node in ascending order: the handle and its gap word.
    func forEach(_ body: (UInt32, UInt32) -> Void) {
        var s = end
        while s > 1 {
            s &-= 1
            if occupied(s) { body(ids[Int(truncatingIfNeeded: s)], words[Int(truncatingIfNeeded: s)]) }
        }
    }

    /// The memory the positions and their levels have touched, rounded up to pages.
    var bytes: Int {
        let n = Int(highWater) + 64
        var b = 0
        for k in 0..<GapArray.levels { b += (((n >> (4 * k)) + 16) * 4 + 4095) & ~4095 }
        for k in 1..<GapArray.levels { b += (((n >> (4 * k)) + 16) * 8 + 4095) & ~4095 }
        b += (n * 4 + 4095) & ~4095
        b += (n / 8 + 4095) & ~4095
        return b + pool.bytes
    }

    /// Unlink every node (put_iova_domain): the handles go back to the pool, the array holds the anchor alone.
    mutating func removeAll() {
        var handles: [UInt32] = []
        forEach { i, _ in handles.append(i) }
        for i in handles { pool.release(i) }
        let n = Int(highWater) + 64
        for k in 0..<GapArray.levels {
            memset(wordLevels[k], 0, ((n >> (4 * k)) + 16) * 4)
            if k > 0 { memset(notLoLevels[k], 0, ((n >> (4 * k)) + 16) * 8) }
        }
        memset(ids, 0, n * 4)
        memset(occupancy, 0, (n / 64 + 1) * 8)
        end = 1
        count = 0
        sweeping = false
        knownHandle = 0
        top = 1
        raiseAt = GapArray.span(1)
        ids[0] = NodePool.anchor
        setOccupied(0)
    }
}
