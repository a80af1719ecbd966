// A magazine: a stack of up to 127 cached ranges of one size class. Kernel: `struct iova_magazine`.
import Glibc

/// A magazine in raw memory: `size`, the depot link, then 127 pfns and the 127 node indices that go with
/// them (the index spares the fast path a tree lookup when it hands a range out again). Kernel:
/// `struct iova_magazine`, `IOVA_MAG_SIZE`.
@usableFromInline struct Magazine {
    static let capacity = 127
    static let pfnsOffset = 16
    static let indicesOffset = 16 + 127 * 8
    static let byteCount = indicesOffset + 127 * 4

    let raw: UnsafeMutableRawPointer

    @inline(__always) init(_ raw: UnsafeMutableRawPointer) { self.raw = raw }

    /// An empty magazine, or nil when memory runs out. Kernel: `iova_magazine_alloc`.
    static func allocate() -> Magazine? {
        guard let p = malloc(byteCount) else { return nil }
        p.storeBytes(of: 0, as: Int.self)
        p.storeBytes(of: nil, toByteOffset: 8, as: UnsafeMutableRawPointer?.self)
        return Magazine(p)
    }

    /// Kernel: `iova_magazine_free`.
    func deallocate() { free(raw) }

    @inline(__always) var size: Int {
        get { raw.load(as: Int.self) }
        nonmutating set { raw.storeBytes(of: newValue, as: Int.self) }
    }

    /// The next magazine in a depot.
    @inline(__always) var next: UnsafeMutableRawPointer? {
        get { raw.load(fromByteOffset: 8, as: UnsafeMutableRawPointer?.self) }
        nonmutating set { raw.storeBytes(of: newValue, toByteOffset: 8, as: UnsafeMutableRawPointer?.self) }
    }

    @inline(__always) var pfns: UnsafeMutablePointer<UInt64> {
        (raw + Magazine.pfnsOffset).assumingMemoryBound(to: UInt64.self)
    }

    @inline(__always) var indices: UnsafeMutablePointer<UInt32> {
        (raw + Magazine.indicesOffset).assumingMemoryBound(to: UInt32.self)
    }

    @inline(__always) var isFull: Bool { size == Magazine.capacity }
    @inline(__always) var isEmpty: Bool { size == 0 }

    /// Kernel: `iova_magazine_push`.
    @inline(__always) func push(_ pfn: UInt64, _ index: UInt32) {
        let n = size
        pfns[n] = pfn
        indices[n] = index
        size = n &+ 1
    }

    /// The topmost entry at or below `limit`, removed by moving the top entry into its place; nil when none is
    /// (the magazine is unchanged). Kernel: `iova_magazine_pop`.
    @inline(__always) func pop(limit: UInt64) -> (pfn: UInt64, index: UInt32)? {
        let n = size
        var i = n &- 1
        let p = pfns
        while p[i] > limit {
            if i == 0 { return nil }
            i &-= 1
        }
        let found = (p[i], indices[i])
        p[i] = p[n &- 1]
        indices[i] = indices[n &- 1]
        size = n &- 1
        return found
    }
}
