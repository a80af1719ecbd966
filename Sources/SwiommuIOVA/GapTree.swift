// The allocations of a domain in an AVL tree ordered by pfn_lo, augmented with the free gap below each node and,
// per subtree, the largest such gap and which size-aligned requests of up to 64 granules some gap can hold, so
// that "the highest node at or below X whose gap can take this request" costs O(log n) instead of the kernel's
// walk over every node in between.
import CKernel

/// An AVL tree of `struct iova` nodes (pool indices) with gap augmentation. Kernel: the `rbroot` rbtree of
/// `struct iova_domain`, with `rb_prev`/`rb_next`, `iova_insert_rbtree`, `rb_erase`, `private_find_iova`.
///
/// The 16 private bytes of a node (`struct swiommu_iova_links`):
/// - `left`, `right`: child index (bits 0-26), the AVL balance (bit 31: that side is taller), and 4 of the
///   node's own fit bits each (bits 27-30);
/// - `max_gap`: bits 0-19 the largest gap in the subtree, bits 20-31 the OR of the fit bits of its gaps;
/// - `gap_lo`, `gap_hi`: the free granules between this node and the one below it (for the lowest node, its
///   pfn_lo: the granules from 0), 20 bits, saturated; the top 4 bits of `gap_hi` hold 4 more own fit bits;
/// - `state`: written by the rcache fast path without the lock; nothing here ever stores to it.
///
/// Fit bits: for a gap of free granules [a, b) and k in 1...6, let u = b - (a rounded up to a multiple of 2^k),
/// the run that starts at the lowest 2^k-aligned pfn. Bit k-1 ("half") is set when u > 2^(k-1), bit 5+k
/// ("full") when u >= 2^k. A request of s granules aligned to 2^k (2^(k-1) < s <= 2^k) fits the gap exactly when
/// u >= s; so "full" decides it for s = 2^k and "half" is necessary for the rest. Both are ORed up the tree.
/// Gaps of 2^20 - 1 granules or more (4 GiB with 4 KiB granules) are stored saturated, with every fit bit set.
///
/// What a search costs: O(log n) node visits to the first node whose gap takes the request. The exceptions (the
/// part that is not logarithmic) are subtrees whose summary admits a request that none of their gaps takes, each
/// costing one more descent: a size-aligned request that is not a power of two and is above 2^(k-1) + 1 for its
/// alignment 2^k (e.g. 6 aligned to 8) meeting gaps that hold more than 2^(k-1) but fewer than s granules from
/// an aligned start; a size-aligned request of more than 64 granules meeting gaps long enough but with no
/// aligned start for it; a request of 2^20 granules or more, checked against each saturated gap.
struct GapTree {
    static let saturated: UInt32 = 0xf_ffff
    static let indexMask: UInt32 = 0x07ff_ffff
    static let heavy: UInt32 = 0x8000_0000
    static let auxShift: UInt32 = 27
    static let auxMask: UInt32 = 0x7800_0000
    static let fitClasses = 6
    static let allFitBits: UInt32 = 0xfff
    /// AVL height is at most 1.44 log2(n) < 40 for 2^27 nodes.
    static let maxDepth = 64

    var pool: NodePool
    var root: UInt32 = NodePool.none
    var count = 0
    /// Scratch for the path of an insertion or removal (callers hold the domain's lock).
    let path: UnsafeMutablePointer<UInt32> = .allocate(capacity: GapTree.maxDepth)
    /// Scratch for the searches' pending subtrees.
    let pending: UnsafeMutablePointer<UInt32> = .allocate(capacity: 2 * GapTree.maxDepth)
    /// Scratch for a retrace or a search: summaries of the subtrees beside the path, read all at once.
    let beside: UnsafeMutablePointer<UInt32> = .allocate(capacity: GapTree.maxDepth)

    init?() {
        guard let p = NodePool() else { return nil }
        pool = p
    }

    func destroy() {
        pool.destroy()
        path.deallocate()
        pending.deallocate()
        beside.deallocate()
    }

    // MARK: Field access

    @inline(__always) func node(_ i: UInt32) -> UnsafeMutablePointer<iova> { pool.node(i) }
    @inline(__always) func lo(_ i: UInt32) -> UInt64 { UInt64(node(i).pointee.pfn_lo) }
    @inline(__always) func hi(_ i: UInt32) -> UInt64 { UInt64(node(i).pointee.pfn_hi) }
    @inline(__always) func left(_ i: UInt32) -> UInt32 { node(i).pointee.node.left & GapTree.indexMask }
    @inline(__always) func right(_ i: UInt32) -> UInt32 { node(i).pointee.node.right & GapTree.indexMask }

    @inline(__always) func setLeft(_ i: UInt32, _ c: UInt32) {
        let p = node(i)
        p.pointee.node.left = (p.pointee.node.left & ~GapTree.indexMask) | c
    }

    @inline(__always) func setRight(_ i: UInt32, _ c: UInt32) {
        let p = node(i)
        p.pointee.node.right = (p.pointee.node.right & ~GapTree.indexMask) | c
    }

    /// -1: the left subtree is one taller; +1: the right one; 0: same height.
    @inline(__always) func balance(_ i: UInt32) -> Int {
        let p = node(i)
        if p.pointee.node.left & GapTree.heavy != 0 { return -1 }
        return p.pointee.node.right & GapTree.heavy != 0 ? 1 : 0
    }

    @inline(__always) func setBalance(_ i: UInt32, _ b: Int) {
        let p = node(i)
        p.pointee.node.left = (p.pointee.node.left & ~GapTree.heavy) | (b < 0 ? GapTree.heavy : 0)
        p.pointee.node.right = (p.pointee.node.right & ~GapTree.heavy) | (b > 0 ? GapTree.heavy : 0)
    }

    /// The stored (saturated) gap below node `i`.
    @inline(__always) func gap(_ i: UInt32) -> UInt32 {
        let p = node(i)
        return UInt32(p.pointee.node.gap_lo) | UInt32(p.pointee.node.gap_hi & 0xf) &<< 16
    }

    /// The fit bits of node `i`'s own gap.
    @inline(__always) func ownFit(_ i: UInt32) -> UInt32 {
        let p = node(i)
        return (p.pointee.node.left &>> GapTree.auxShift) & 0xf
            | ((p.pointee.node.right &>> GapTree.auxShift) & 0xf) &<< 4
            | UInt32(p.pointee.node.gap_hi &>> 4) &<< 8
    }

    /// The fit bits of the free granules [lo - gap, lo); every bit for a saturated gap.
    @inline(__always) static func fitBits(lo b: UInt64, gap g: UInt64) -> UInt32 {
        // A run of 2^(k+1) - 1 free granules holds an aligned 2^k block for every k <= 6; below 2 none fits.
        if g >= 127 { return allFitBits }
        if g < 2 { return 0 }
        let a = b &- g
        var bits: UInt32 = 0
        var k: UInt64 = 1
        while k <= UInt64(fitClasses) {
            let align = UInt64(1) &<< k
            let x0 = (a &+ align &- 1) & ~(align &- 1)
            if x0 >= a && x0 < b {
                let u = b &- x0
                if u > align &>> 1 { bits |= 1 &<< UInt32(k &- 1) }
                if u >= align { bits |= 1 &<< UInt32(k &+ 5) }
            }
            k &+= 1
        }
        return bits
    }

    /// Store the gap below node `i` (its pfn_lo set) and its fit bits. Narrow stores: never the `state` byte.
    @inline(__always) func setGap(_ i: UInt32, _ g: UInt64) {
        let s = g >= UInt64(GapTree.saturated) ? GapTree.saturated : UInt32(truncatingIfNeeded: g)
        let bits = GapTree.fitBits(lo: lo(i), gap: g)
        let p = node(i)
        p.pointee.node.gap_lo = UInt16(truncatingIfNeeded: s)
        p.pointee.node.gap_hi = UInt8(truncatingIfNeeded: (s &>> 16) | (bits &>> 8) &<< 4)
        p.pointee.node.left = (p.pointee.node.left & ~GapTree.auxMask) | (bits & 0xf) &<< GapTree.auxShift
        p.pointee.node.right = (p.pointee.node.right & ~GapTree.auxMask) | ((bits &>> 4) & 0xf) &<< GapTree.auxShift
    }

    /// The gap below a node starting at `lo` whose predecessor ends at `predHi` (nil: none).
    @inline(__always) static func gapValue(lo: UInt64, predHi: UInt64?) -> UInt64 {
        guard let predHi else { return lo }
        return lo &- predHi &- 1
    }

    /// The subtree summary word: bits 0-19 the largest gap, 20-31 the OR of the fit bits. 0 for `none` (slot 0
    /// is never written).
    @inline(__always) func summary(_ i: UInt32) -> UInt32 { node(i).pointee.node.max_gap }
    @inline(__always) func maxGap(_ i: UInt32) -> UInt32 { summary(i) & GapTree.saturated }

    /// Combine two summary words: max of the gaps, OR of the fit bits.
    @inline(__always) static func combine(_ a: UInt32, _ b: UInt32) -> UInt32 {
        max(a & saturated, b & saturated) | ((a | b) & ~saturated)
    }

    /// Whether summary `b` holds at least what summary `a` holds.
    @inline(__always) static func covers(_ b: UInt32, _ a: UInt32) -> Bool {
        b & saturated >= a & saturated && (a & ~saturated) & ~b == 0
    }

    /// Recompute node `i`'s summary from its own gap and its children's; returns the new word.
    @discardableResult @inline(__always) func recompute(_ i: UInt32) -> UInt32 {
        let own = gap(i) | ownFit(i) &<< 20
        let w = GapTree.combine(own, GapTree.combine(summary(left(i)), summary(right(i))))
        node(i).pointee.node.max_gap = w
        return w
    }

    // MARK: Lookups

    /// The node containing `pfn`, or `none`. Kernel: `private_find_iova`.
    func find(containing pfn: UInt64) -> UInt32 {
        var x = root
        while x != NodePool.none {
            let p = node(x)
            let l = UInt64(p.pointee.pfn_lo)
            if pfn >= l && pfn <= UInt64(p.pointee.pfn_hi) { return x }
            x = (pfn < l ? p.pointee.node.left : p.pointee.node.right) & GapTree.indexMask
        }
        return NodePool.none
    }

    /// The lowest node whose pfn_lo is at least `key`, or `none`.
    func lowest(loAtLeast key: UInt64) -> UInt32 {
        var x = root, best = NodePool.none
        while x != NodePool.none {
            let p = node(x)
            let ge = UInt64(p.pointee.pfn_lo) >= key
            best = ge ? x : best
            x = (ge ? p.pointee.node.left : p.pointee.node.right) & GapTree.indexMask
        }
        return best
    }

    /// The lowest node whose pfn_hi is at least `key`, or `none` (nodes do not overlap, so pfn_hi orders them too).
    func lowest(hiAtLeast key: UInt64) -> UInt32 {
        var x = root, best = NodePool.none
        while x != NodePool.none {
            let p = node(x)
            let ge = UInt64(p.pointee.pfn_hi) >= key
            best = ge ? x : best
            x = (ge ? p.pointee.node.left : p.pointee.node.right) & GapTree.indexMask
        }
        return best
    }

    /// The highest node whose pfn_lo is below `key`, or `none`.
    func highest(loBelow key: UInt64) -> UInt32 {
        var x = root, best = NodePool.none
        while x != NodePool.none {
            let p = node(x)
            let lt = UInt64(p.pointee.pfn_lo) < key
            best = lt ? x : best
            x = (lt ? p.pointee.node.right : p.pointee.node.left) & GapTree.indexMask
        }
        return best
    }

    /// Kernel: `rb_prev`.
    @inline(__always) func predecessor(_ i: UInt32) -> UInt32 { highest(loBelow: lo(i)) }

    /// Kernel: `rb_next` (`none` after the highest node; the caller maps that to the anchor).
    @inline(__always) func successor(_ i: UInt32) -> UInt32 {
        let l = lo(i)
        return l == ~0 ? NodePool.none : lowest(loAtLeast: l &+ 1)
    }

    /// A search request: the gap a node must have (`need`, saturated) and the fit bits it must show (`fitMask`),
    /// both necessary; `fits` decides exactly for a node that shows them.
    struct Request {
        var need: UInt32
        var fitMask: UInt32
        @inline(__always) func admits(_ w: UInt32) -> Bool {
            w & GapTree.saturated >= need && (w &>> 20) & fitMask == fitMask
        }
    }

    /// The highest node with pfn_lo <= `key` that the request admits and `fits` accepts, in descending order,
    /// skipping every subtree whose summary does not admit the request; `none` when there is none, or when the
    /// walk reaches a node with pfn_lo below `floor` (nothing there can succeed). O(log n) plus the subtrees that
    /// admit the request without holding a fit (size-aligned requests only).
    @inline(__always) func last(loAtMost key: UInt64, _ req: Request, floor: UInt64,
                                fits: (UInt32) -> Bool) -> UInt32 {
        // Descend towards `key`: each node at or below it heads a group (itself, then its left subtree) that
        // comes after the groups pushed later.
        var groups = 0
        var x = root
        while x != NodePool.none {
            let p = node(x)
            let le = UInt64(p.pointee.pfn_lo) <= key
            pending[groups] = x                    // kept only when at or below the key: no branch to mispredict
            groups &+= le ? 1 : 0
            x = (le ? p.pointee.node.right : p.pointee.node.left) & GapTree.indexMask
        }
        // Whether each group's left subtree admits the request: read for all groups at once (independent loads
        // whose misses overlap) when the first group does not answer by itself.
        var leftsRead = false
        while groups > 0 {
            groups &-= 1
            let g = pending[groups]
            if lo(g) < floor { return NodePool.none }
            if req.admits(gap(g) | ownFit(g) &<< 20) && fits(g) { return g }
            if !leftsRead {
                var j = 0
                while j <= groups {
                    beside[j] = summary(left(pending[j]))
                    j &+= 1
                }
                leftsRead = true
            }
            if !req.admits(beside[groups]) { continue }
            // The left subtree in descending order, pruned by summaries; `pending` above `groups` is free.
            var top = groups
            var y = left(g)
            while true {
                while y != NodePool.none && req.admits(summary(y)) {
                    pending[top] = y
                    top &+= 1
                    y = right(y)
                }
                if top == groups { break }
                top &-= 1
                let z = pending[top]
                if lo(z) < floor { return NodePool.none }
                if req.admits(gap(z) | ownFit(z) &<< 20) && fits(z) { return z }
                y = left(z)
            }
        }
        return NodePool.none
    }

    /// The height of the tree (follows the taller child down).
    var height: Int {
        var h = 0, x = root
        while x != NodePool.none {
            h += 1
            x = balance(x) < 0 ? left(x) : right(x)
        }
        return h
    }

    // MARK: Updates

    /// Point the link at `path[d]`'s position (the root for d == 0) at `c`. `dirs` bit d-1: went right.
    @inline(__always) private mutating func relink(_ d: Int, _ c: UInt32, _ dirs: UInt64) {
        if d == 0 {
            root = c
        } else if dirs & (1 &<< UInt64(d - 1)) != 0 {
            setRight(path[d - 1], c)
        } else {
            setLeft(path[d - 1], c)
        }
    }

    /// Rotate at `x`, whose would-be balance `b` is +2 or -2. Returns the new subtree root and whether the
    /// subtree is now one shorter than it was with the imbalance (not so only when the taller child was
    /// balanced, which only a removal produces). Recomputes the summaries of the rotated nodes.
    private mutating func rebalance(_ x: UInt32, _ b: Int) -> (root: UInt32, shorter: Bool) {
        if b > 0 {
            let r = right(x), br = balance(r)
            if br >= 0 {
                setRight(x, left(r))
                setLeft(r, x)
                if br == 0 {
                    setBalance(x, 1); setBalance(r, -1)
                } else {
                    setBalance(x, 0); setBalance(r, 0)
                }
                recompute(x); recompute(r)
                return (r, br != 0)
            }
            let m = left(r), bm = balance(m)
            setLeft(r, right(m))
            setRight(m, r)
            setRight(x, left(m))
            setLeft(m, x)
            setBalance(x, bm > 0 ? -1 : 0)
            setBalance(r, bm < 0 ? 1 : 0)
            setBalance(m, 0)
            recompute(x); recompute(r); recompute(m)
            return (m, true)
        } else {
            let l = left(x), bl = balance(l)
            if bl <= 0 {
                setLeft(x, right(l))
                setRight(l, x)
                if bl == 0 {
                    setBalance(x, -1); setBalance(l, 1)
                } else {
                    setBalance(x, 0); setBalance(l, 0)
                }
                recompute(x); recompute(l)
                return (l, bl != 0)
            }
            let m = right(l), bm = balance(m)
            setRight(l, left(m))
            setLeft(m, l)
            setLeft(x, right(m))
            setRight(m, x)
            setBalance(x, bm < 0 ? 1 : 0)
            setBalance(l, bm > 0 ? -1 : 0)
            setBalance(m, 0)
            recompute(x); recompute(l); recompute(m)
            return (m, true)
        }
    }

    /// Bring the summaries on `path[0...start]` up to date after a change below `path[start]`, rebalancing on the
    /// way while the height changed. `grew`: the change at `path[start]`'s child position is an insertion (the
    /// subtree may be taller), else a removal (it may be shorter). `oldWord`/`newWord`: the summary of that child
    /// position before and after. `forced`: the node on the path whose own gap changed (the successor of the
    /// inserted or removed node). After a removal its gap swallowed the removed node and its gap, so its new
    /// summary is the old one combined with its new gap, exactly; after an insertion it is recomputed.
    /// `moved`/`movedOld`: after a removal of a node with two children, the level where its successor now sits
    /// and the removed node's summary (what that position held before).
    ///
    /// Other levels: one whose child's summary did not change keeps its summary; one whose child's summary only
    /// grew takes the combination (no read of the sibling, which is likely not in the cache); else it is
    /// recomputed. Every rule gives exactly what a full recompute would.
    private mutating func retrace(from start: Int, _ dirs: UInt64, grew: Bool, oldWord: UInt32, newWord: UInt32,
                                  forced: UInt32, moved: Int = -1, movedOld: UInt32 = 0) {
        var heightChanged = true
        var oldC = oldWord, newC = newWord
        var forcedDepth = -1
        if forced != NodePool.none {
            for j in 0...start where path[j] == forced { forcedDepth = j }
        }
        var besideRead = false
        var d = start
        while d >= 0 {
            let x = path[d]
            let before = d == moved ? movedOld : summary(x)
            var top = x
            if heightChanged {
                let right = dirs & (1 &<< UInt64(d)) != 0
                let b = balance(x) + (grew == right ? 1 : -1)
                if b == 0 {
                    setBalance(x, 0)
                    heightChanged = !grew
                } else if b == 1 || b == -1 {
                    setBalance(x, b)
                    heightChanged = grew
                } else {
                    let r = rebalance(x, b)
                    top = r.root
                    heightChanged = grew ? false : r.shorter
                    relink(d, top, dirs)
                }
            }
            var after: UInt32
            if top != x {
                after = summary(top)          // rebalance recomputed the rotated nodes
            } else if x == forced && !grew {
                after = GapTree.combine(before, gap(x) | ownFit(x) &<< 20)
                node(x).pointee.node.max_gap = after
            } else if x != forced && oldC == newC {
                after = before
            } else if x != forced && GapTree.covers(newC, oldC) {
                after = GapTree.combine(before, newC)
                node(x).pointee.node.max_gap = after
            } else {
                // A full recompute needs the subtree beside the path, likely not in the cache. Once one is
                // needed, more usually follow (a shrink travels up): load them all at once, so that the misses
                // overlap. Rotations further up keep each level's other child.
                if !besideRead {
                    var j = 0
                    while j <= d {
                        let p = path[j]
                        let other = dirs & (1 &<< UInt64(j)) != 0 ? left(p) : right(p)
                        beside[j] = summary(other)
                        j &+= 1
                    }
                    besideRead = true
                }
                after = GapTree.combine(gap(x) | ownFit(x) &<< 20, GapTree.combine(newC, beside[d]))
                node(x).pointee.node.max_gap = after
            }
            oldC = before
            newC = after
            // Nothing changes further up: same summary, same height, no node with a new gap above.
            if !heightChanged && oldC == newC && (forcedDepth < 0 || forcedDepth >= d) { break }
            d -= 1
        }
    }

    /// Insert node `z` (pfn_lo and pfn_hi set, overlapping nothing). Kernel: `iova_insert_rbtree`.
    mutating func insert(_ z: UInt32) {
        let zlo = lo(z), zhi = hi(z)
        var depth = 0, dirs: UInt64 = 0
        var x = root, pred = NodePool.none, succ = NodePool.none
        while x != NodePool.none {
            path[depth] = x
            let p = node(x)
            let goLeft = zlo < UInt64(p.pointee.pfn_lo)
            succ = goLeft ? x : succ
            pred = goLeft ? pred : x
            dirs |= (goLeft ? 0 : 1) &<< UInt64(depth)
            x = (goLeft ? p.pointee.node.left : p.pointee.node.right) & GapTree.indexMask
            depth += 1
        }
        let p = node(z)
        p.pointee.node.left = 0
        p.pointee.node.right = 0
        setGap(z, GapTree.gapValue(lo: zlo, predHi: pred == NodePool.none ? nil : hi(pred)))
        let w = gap(z) | ownFit(z) &<< 20
        p.pointee.node.max_gap = w
        // The successor is an ancestor (where the descent last went left): the retrace recomputes it.
        if succ != NodePool.none { setGap(succ, lo(succ) &- zhi &- 1) }
        count += 1
        relink(depth, z, dirs)
        if depth > 0 { retrace(from: depth - 1, dirs, grew: true, oldWord: 0, newWord: w, forced: succ) }
    }

    /// Unlink node `z` and return its successor (`none` if it was the highest); nil, changing nothing, when `z`
    /// is not in the tree (the descent by its pfn_lo does not reach it). `z`'s pfn_lo and pfn_hi are left as
    /// they were. Kernel: `rb_erase`, with `rb_next` taken before.
    mutating func remove(_ z: UInt32) -> UInt32? {
        let zlo = lo(z)
        var depth = 0, dirs: UInt64 = 0
        var x = root, succAncestor = NodePool.none
        while x != z {
            if x == NodePool.none || depth == GapTree.maxDepth { return nil }
            path[depth] = x
            let p = node(x)
            let goLeft = zlo < UInt64(p.pointee.pfn_lo)
            succAncestor = goLeft ? x : succAncestor
            dirs |= (goLeft ? 0 : 1) &<< UInt64(depth)
            x = (goLeft ? p.pointee.node.left : p.pointee.node.right) & GapTree.indexMask
            depth += 1
        }
        let zl = left(z), zr = right(z)
        let zWord = summary(z)
        // The successor takes over z's range and the gap below z: its gap grows by both (saturating).
        let merged = UInt64(gap(z)) &+ (hi(z) &- zlo &+ 1)
        count -= 1
        if zl == NodePool.none || zr == NodePool.none {
            let c = zl != NodePool.none ? zl : zr
            relink(depth, c, dirs)
            let succ: UInt32
            var newWord: UInt32 = 0
            if zr != NodePool.none {
                // A lone right child is a leaf in an AVL tree: the successor, now in z's place.
                succ = zr
                setGap(succ, UInt64(gap(succ)) &+ merged)
                newWord = recompute(succ)
            } else {
                succ = succAncestor
                if succ != NodePool.none { setGap(succ, UInt64(gap(succ)) &+ merged) }
                if c != NodePool.none { newWord = summary(c) }
            }
            if depth > 0 {
                retrace(from: depth - 1, dirs, grew: false, oldWord: zWord, newWord: newWord,
                        forced: zr != NodePool.none ? NodePool.none : succ)
            }
            return succ
        }
        // Two children: the successor y (leftmost of the right subtree) takes z's place.
        let d0 = depth
        path[d0] = z
        dirs |= 1 &<< UInt64(d0)
        depth += 1
        var y = zr
        while left(y) != NodePool.none {
            path[depth] = y
            dirs &= ~(1 &<< UInt64(depth))
            depth += 1
            y = left(y)
        }
        let yWord = summary(y)
        setGap(y, UInt64(gap(y)) &+ merged)
        let bz = balance(z)
        let start: Int
        let newWord: UInt32
        if y == zr {
            setLeft(y, zl)
            start = d0
            newWord = summary(right(y))
        } else {
            let yr = right(y)
            setLeft(path[depth - 1], yr)
            setLeft(y, zl)
            setRight(y, zr)
            start = depth - 1
            newWord = summary(yr)
        }
        setBalance(y, bz)
        relink(d0, y, dirs)
        path[d0] = y
        retrace(from: start, dirs, grew: false, oldWord: yWord, newWord: newWord, forced: y, moved: d0,
                movedOld: zWord)
        return y
    }

    /// Lower node `z`'s pfn_lo to `newLo` (still above its predecessor). Kernel: `__adjust_overlap_range`.
    mutating func lowerStart(_ z: UInt32, to newLo: UInt64) {
        let zlo = lo(z)
        var depth = 0
        var x = root
        while x != z {
            path[depth] = x
            x = zlo < lo(x) ? left(x) : right(x)
            depth += 1
        }
        var g = UInt64(gap(z))
        if g == UInt64(GapTree.saturated) {
            let p = highest(loBelow: zlo)
            g = GapTree.gapValue(lo: zlo, predHi: p == NodePool.none ? nil : hi(p))
        }
        node(z).pointee.pfn_lo = CUnsignedLong(newLo)
        setGap(z, g &- (zlo &- newLo))
        recompute(z)
        var d = depth - 1
        while d >= 0 { recompute(path[d]); d -= 1 }
    }

    /// Unlink every node without rebalancing (put_iova_domain): the nodes go back to the pool.
    mutating func removeAll() {
        var stack: [UInt32] = []
        if root != NodePool.none { stack.append(root) }
        while let x = stack.popLast() {
            let l = left(x), r = right(x)
            if l != NodePool.none { stack.append(l) }
            if r != NodePool.none { stack.append(r) }
            pool.release(x)
        }
        root = NodePool.none
        count = 0
    }
}
