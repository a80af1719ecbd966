// Storage for the allocator's nodes: each live allocation is one 32-byte C `struct iova` at a stable address,
// named inside the allocator by a 27-bit index (tree links are indices, not pointers, to fit in 32 bytes).
import CKernel
import Glibc

/// What a node slot holds. Kept in `struct iova`'s `node.state` byte, which the fast path writes without the
/// tree's lock (every other field is written under it, never with a store that covers this byte).
@usableFromInline enum NodeState {
    static let free: UInt8 = 0        // on the pool's free list (or never used)
    static let allocated: UInt8 = 1   // alloc_iova, alloc_iova_fast, reserve_iova: the caller owns it
    static let cached: UInt8 = 2      // freed by free_iova_fast into an rcache; still in the tree
    static let anchor: UInt8 = 3      // the anchor at IOVA_ANCHOR, never in the tree
}

/// A pool of `struct iova` slots in one reservation of address space that never moves: slot i is at
/// base + 32 i, pages are backed by the kernel as they are first touched (so the memory used follows the
/// largest number of nodes ever live), and a pointer converts to its index with a subtraction. Index 0 is
/// "none" (its slot stays zero, so reading its summary gives 0), index 1 is the anchor, allocations start at 2.
/// Kernel: the `iova_cache` kmem cache (`alloc_iova_mem`, `free_iova_mem`).
struct NodePool {
    static let none: UInt32 = 0
    static let anchor: UInt32 = 1
    /// Indices fit in 27 bits (134 million allocations per domain): the rest of a link word holds the AVL
    /// balance and fit bits (`GapTree`).
    static let maxIndex: UInt32 = 0x07ff_ffff
    /// Slots past this many are backed by transparent huge pages where the kernel offers them (fewer TLB misses
    /// in large trees; small domains keep 4 KiB pages).
    static let hugePageFrom = 1 << 16

    let base: UnsafeMutablePointer<iova>
    let mapping: UnsafeMutableRawPointer
    let mappingBytes: Int
    /// Slots available in the reservation.
    let capacity: UInt32
    /// The next never-used index, and the free list (threaded through `node.left`).
    var nextFresh: UInt32 = 2
    var freeHead: UInt32 = NodePool.none
    /// Slots handed out and not freed (the anchor excluded).
    var live = 0

    /// Reserve address space for the largest pool the system allows, from 2^27 slots (4 GiB) down; nil when not
    /// even 4096 slots can be had.
    init?() {
        let stride = MemoryLayout<iova>.stride
        var slots = Int(NodePool.maxIndex) + 1
        var m: UnsafeMutableRawPointer? = nil
        while slots >= 1 << 12 {
            let r = mmap(nil, slots * stride, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
            if let r, r != MAP_FAILED {
                m = r
                break
            }
            slots >>= 2
        }
        guard let m else { return nil }
        mapping = m
        mappingBytes = slots * stride
        capacity = UInt32(slots)
        base = m.bindMemory(to: iova.self, capacity: slots)
        if slots > NodePool.hugePageFrom {
            _ = madvise(m + NodePool.hugePageFrom * stride, (slots - NodePool.hugePageFrom) * stride, MADV_HUGEPAGE)
        }
        let a = node(NodePool.anchor)
        a.pointee.pfn_lo = ~0
        a.pointee.pfn_hi = ~0
        a.pointee.node.state = NodeState.anchor
    }

    /// The node at index `i` (a valid, allocated-once index).
    @inline(__always) func node(_ i: UInt32) -> UnsafeMutablePointer<iova> { base + Int(truncatingIfNeeded: i) }

    /// The node at index `i`, for a reader that does not hold the lock and may have read `i` from a node being
    /// rewritten: nil when `i` is outside the reservation (inside it, every slot can be read).
    @inline(__always) func checkedNode(_ i: UInt32) -> UnsafeMutablePointer<iova>? {
        i < capacity ? base + Int(truncatingIfNeeded: i) : nil
    }

    /// A zeroed slot (state `free`), or nil when the reservation is full.
    mutating func allocate() -> UInt32? {
        var i = freeHead
        if i != NodePool.none {
            freeHead = node(i).pointee.node.left
        } else {
            guard nextFresh < capacity else { return nil }
            i = nextFresh
            nextFresh += 1
        }
        node(i).pointee.node = swiommu_iova_links()
        live += 1
        return i
    }

    mutating func release(_ i: UInt32) {
        node(i).pointee.node = swiommu_iova_links(left: freeHead, right: 0, max_gap: 0, gap_lo: 0, gap_hi: 0,
                                                  state: NodeState.free)
        freeHead = i
        live -= 1
    }

    /// The index of a pointer to a slot of this pool (allocated or not), or nil.
    @inline(__always) func index(of p: UnsafeRawPointer) -> UInt32? {
        let off = p - UnsafeRawPointer(base)
        let stride = MemoryLayout<iova>.stride
        guard off >= 2 * stride, off < Int(nextFresh) * stride, off % stride == 0 else { return nil }
        return UInt32(off / stride)
    }

    /// The memory the pool has touched: every slot up to the highest ever used, rounded up to pages.
    var bytes: Int {
        let used = Int(nextFresh) * MemoryLayout<iova>.stride
        return (used + 4095) & ~4095
    }

    func destroy() {
        munmap(mapping, mappingBytes)
    }
}
