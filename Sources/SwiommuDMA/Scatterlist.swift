// The scatterlist library: entries, chains, tables built from page arrays, copies. Kernel: lib/scatterlist.c
// and the inline helpers of include/linux/scatterlist.h (the C side has them inline; these are for Swift).
import Glibc
import CKernel
import SwiommuBase
import SwiommuMemory

public enum SG {
    static let chainBit: UInt = 0x01
    static let endBit: UInt = 0x02
    static let linkMask: UInt = 0x03

    /// Kernel: SG_MAX_SINGLE_ALLOC: entries in one page.
    public static func maxSingleAlloc(_ g: PageGeometry) -> Int { g.size / MemoryLayout<Scatterlist>.stride }

    @inline(__always) public static func isChain(_ s: UnsafeMutablePointer<Scatterlist>) -> Bool {
        s.pointee.page_link & chainBit != 0
    }
    @inline(__always) public static func isLast(_ s: UnsafeMutablePointer<Scatterlist>) -> Bool {
        s.pointee.page_link & endBit != 0
    }
    @inline(__always) static func chainPointer(_ s: UnsafeMutablePointer<Scatterlist>) -> UnsafeMutablePointer<Scatterlist>? {
        UnsafeMutablePointer(bitPattern: s.pointee.page_link & ~linkMask)
    }

    /// Kernel: sg_next.
    @inline(__always)
    public static func next(_ s: UnsafeMutablePointer<Scatterlist>) -> UnsafeMutablePointer<Scatterlist>? {
        if isLast(s) { return nil }
        let n = s + 1
        return isChain(n) ? chainPointer(n) : n
    }

    /// Kernel: sg_page.
    @inline(__always)
    public static func page(_ s: UnsafeMutablePointer<Scatterlist>) -> UnsafeMutablePointer<PageFrame>? {
        UnsafeMutablePointer(bitPattern: s.pointee.page_link & ~linkMask)
    }

    /// Kernel: sg_set_page.
    @inline(__always)
    public static func setPage(_ s: UnsafeMutablePointer<Scatterlist>, _ page: UnsafeMutablePointer<PageFrame>,
                               length: UInt32, offset: UInt32) {
        s.pointee.page_link = (s.pointee.page_link & (chainBit | endBit)) | UInt(bitPattern: page)
        s.pointee.offset = offset
        s.pointee.length = length
    }

    /// Kernel: sg_phys. Nil when the entry's page is no struct page of simulated RAM.
    @inline(__always)
    public static func physicalAddress(_ s: UnsafeMutablePointer<Scatterlist>, _ memory: SimulatedMemory) -> PhysicalAddress? {
        guard let p = page(s), let pa = memory.physical.physicalAddress(of: p) else { return nil }
        return pa + UInt64(s.pointee.offset)
    }

    /// Kernel: for_each_sg.
    @inline(__always)
    public static func forEach(_ sgl: UnsafeMutablePointer<Scatterlist>, _ nents: Int32,
                               _ body: (UnsafeMutablePointer<Scatterlist>) -> Void) {
        var sg: UnsafeMutablePointer<Scatterlist>? = sgl
        var i: Int32 = 0
        while i < nents, let s = sg {
            body(s)
            i += 1
            sg = next(s)
        }
    }

    /// Kernel: sg_mark_end.
    @inline(__always) public static func markEnd(_ s: UnsafeMutablePointer<Scatterlist>) {
        s.pointee.page_link = (s.pointee.page_link | endBit) & ~chainBit
    }

    /// Kernel: __sg_chain.
    static func chain(_ link: UnsafeMutablePointer<Scatterlist>, to sgl: UnsafeMutablePointer<Scatterlist>) {
        link.pointee.offset = 0
        link.pointee.length = 0
        link.pointee.page_link = (UInt(bitPattern: sgl) | chainBit) & ~endBit
    }

    // MARK: Kernel: sg_nents, sg_nents_for_len, sg_last, sg_init_table, sg_init_one.

    public static func count(_ sg: UnsafeMutablePointer<Scatterlist>?) -> Int32 {
        var n: Int32 = 0
        var s = sg
        while let cur = s {
            n += 1
            s = next(cur)
        }
        return n
    }

    public static func count(_ sg: UnsafeMutablePointer<Scatterlist>?, forLength len: UInt64) -> Int32 {
        if len == 0 { return 0 }
        var n: Int32 = 0
        var total: UInt64 = 0
        var s = sg
        while let cur = s {
            n += 1
            total += UInt64(cur.pointee.length)
            if total >= len { return n }
            s = next(cur)
        }
        return Errno.invalid.negated
    }

    public static func last(_ sgl: UnsafeMutablePointer<Scatterlist>, _ nents: UInt32) -> UnsafeMutablePointer<Scatterlist>? {
        var ret: UnsafeMutablePointer<Scatterlist>?
        forEach(sgl, Int32(truncatingIfNeeded: nents)) { ret = $0 }
        return ret
    }

    public static func initTable(_ sgl: UnsafeMutablePointer<Scatterlist>, _ nents: UInt32) {
        memset(sgl, 0, MemoryLayout<Scatterlist>.stride * Int(nents))
        if nents > 0 { markEnd(sgl + Int(nents) - 1) }
    }

    // MARK: Tables. Kernel: __sg_alloc_table, sg_alloc_table, __sg_free_table, sg_free_table.

    /// Kernel: sg_kmalloc (a whole page for SG_MAX_SINGLE_ALLOC entries, kmalloc_array otherwise).
    static func allocChunk(_ nents: Int, gfp: GFP, memory: SimulatedMemory) -> UnsafeMutablePointer<Scatterlist>? {
        memory.kmalloc(size: nents * MemoryLayout<Scatterlist>.stride, gfp: gfp, site: nil)?
            .assumingMemoryBound(to: Scatterlist.self)
    }

    static func freeChunk(_ sgl: UnsafeMutablePointer<Scatterlist>, memory: SimulatedMemory) {
        memory.kfree(UnsafeRawPointer(sgl))
    }

    /// Kernel: sg_alloc_table. 0, -EINVAL for no entries, -ENOMEM (everything freed).
    public static func allocTable(_ table: UnsafeMutablePointer<SGTable>, count nents: UInt32, gfp: GFP,
                                  memory: SimulatedMemory) -> Int32 {
        table.pointee = SGTable()
        guard nents > 0 else { return Errno.invalid.negated }
        let maxEnts = UInt32(maxSingleAlloc(memory.geometry))
        var left = nents
        var prv: UnsafeMutablePointer<Scatterlist>?
        repeat {
            var allocSize = left
            let sgSize: UInt32
            if allocSize > maxEnts {
                allocSize = maxEnts
                sgSize = allocSize - 1
            } else {
                sgSize = allocSize
            }
            left -= sgSize
            guard let sg = allocChunk(Int(allocSize), gfp: gfp, memory: memory) else {
                // The previous chunk's last entry will not serve as a link.
                if prv != nil {
                    table.pointee.orig_nents += 1
                    table.pointee.nents = table.pointee.orig_nents
                }
                freeTable(table, memory: memory)
                return Errno.noMemory.negated
            }
            initTable(sg, allocSize)
            table.pointee.orig_nents += sgSize
            table.pointee.nents = table.pointee.orig_nents
            if let prv { chain(prv + Int(maxEnts) - 1, to: sg) } else { table.pointee.sgl = sg }
            if left == 0 { markEnd(sg + Int(sgSize) - 1) }
            prv = sg
        } while left > 0
        return 0
    }

    /// Kernel: __sg_free_table with SG_MAX_SINGLE_ALLOC chunks, for `entries` entries.
    static func freeChunks(_ table: UnsafeMutablePointer<SGTable>, entries: UInt32, memory: SimulatedMemory) {
        guard var sgl = table.pointee.sgl else { return }
        let maxEnts = UInt32(maxSingleAlloc(memory.geometry))
        var num = entries
        while num > 0 {
            var allocSize = num
            let sgSize: UInt32
            var nextChunk: UnsafeMutablePointer<Scatterlist>?
            if allocSize > maxEnts {
                nextChunk = chainPointer(sgl + Int(maxEnts) - 1)
                allocSize = maxEnts
                sgSize = allocSize - 1
            } else {
                sgSize = allocSize
            }
            num -= sgSize
            freeChunk(sgl, memory: memory)
            guard let n = nextChunk else { break }
            sgl = n
        }
        table.pointee.sgl = nil
    }

    /// Kernel: sg_free_table.
    public static func freeTable(_ table: UnsafeMutablePointer<SGTable>, memory: SimulatedMemory) {
        freeChunks(table, entries: table.pointee.orig_nents, memory: memory)
    }

    // MARK: Kernel: sg_alloc_append_table_from_pages, sg_alloc_table_from_pages_segment.

    /// Kernel: get_next_sg.
    private static func nextEntry(_ table: UnsafeMutablePointer<sg_append_table>, _ cur: UnsafeMutablePointer<Scatterlist>?,
                                  needed: Int, gfp: GFP, memory: SimulatedMemory) -> UnsafeMutablePointer<Scatterlist>? {
        var nextSG: UnsafeMutablePointer<Scatterlist>?
        if let cur {
            nextSG = next(cur)
            // Keep the last entry for chaining unless it is the only one needed.
            if let n = nextSG, !isLast(n) || needed == 1 { return n }
        }
        let allocSize = min(needed, maxSingleAlloc(memory.geometry))
        guard let newSG = allocChunk(allocSize, gfp: gfp, memory: memory) else { return nil }
        initTable(newSG, UInt32(allocSize))
        if cur != nil, let n = nextSG {
            table.pointee.total_nents += UInt32(allocSize - 1)
            chain(n, to: newSG)
        } else {
            table.pointee.sgt.sgl = newSG
            table.pointee.total_nents = UInt32(allocSize)
        }
        return newSG
    }

    /// Kernel: pages_are_mergeable.
    private static func mergeable(_ a: UnsafeMutablePointer<PageFrame>?, _ b: UnsafeMutablePointer<PageFrame>?,
                                  _ memory: SimulatedMemory) -> Bool {
        guard let a, let b, let pa = memory.physical.pfn(of: a), let pb = memory.physical.pfn(of: b) else { return false }
        return pa.rawValue == pb.rawValue &+ 1
    }

    /// Kernel: sg_alloc_append_table_from_pages.
    public static func appendFromPages(_ table: UnsafeMutablePointer<sg_append_table>,
                                       pages inPages: UnsafeMutablePointer<UnsafeMutablePointer<PageFrame>?>,
                                       count inCount: UInt32, offset inOffset: UInt32, size inSize: UInt,
                                       maxSegment inMax: UInt32, leftPages: UInt32, gfp: GFP, memory: SimulatedMemory) -> Int32 {
        let pageSize = UInt32(memory.geometry.size)
        let maxSegment = inMax & ~(pageSize - 1)
        guard maxSegment >= pageSize else {
            Kernel.warn("sg_alloc_append_table_from_pages: max_segment \(inMax) is below PAGE_SIZE")
            return Errno.invalid.negated
        }
        var pages = inPages
        var nPages = inCount
        var offset = inOffset
        var size = inSize
        var s = table.pointee.prv
        var prvLength: UInt32 = 0
        if let prv = table.pointee.prv {
            guard offset == 0 else {
                Kernel.warn("sg_alloc_append_table_from_pages: an offset when appending")
                return Errno.invalid.negated
            }
            // Merge contiguous pages into the last entry.
            prvLength = prv.pointee.length
            if let first = pages[0], let end = physicalAddress(prv, memory),
               let pfn = memory.physical.pfn(of: first),
               pfn.rawValue == (end.rawValue + UInt64(prv.pointee.length)) >> UInt64(memory.geometry.shift) {
                var lastPage = memory.physical.page(for: PFN(pfn.rawValue - 1))
                while nPages > 0 && mergeable(pages[0], lastPage, memory) {
                    if prv.pointee.length + pageSize > maxSegment { break }
                    prv.pointee.length += pageSize
                    lastPage = pages[0]
                    pages += 1
                    nPages -= 1
                }
                if nPages == 0 {
                    if leftPages == 0 { markEnd(prv) }
                    return 0
                }
            }
        }
        // Contiguous chunks.
        var chunks: UInt32 = 1
        var segLength: UInt32 = 0
        if nPages > 1 {
            for i in 1..<Int(nPages) {
                segLength += pageSize
                if segLength >= maxSegment || !mergeable(pages[i], pages[i - 1], memory) {
                    chunks += 1
                    segLength = 0
                }
            }
        }
        var added: UInt32 = 0
        var cur = 0
        for i in 0..<Int(chunks) {
            segLength = 0
            var j = cur + 1
            while j < Int(nPages) {
                segLength += pageSize
                if segLength >= maxSegment || !mergeable(pages[j], pages[j - 1], memory) { break }
                j += 1
            }
            guard let entry = nextEntry(table, s, needed: Int(chunks) - i + Int(leftPages), gfp: gfp, memory: memory),
                  let page = pages[cur] else {
                if let prv = table.pointee.prv { prv.pointee.length = prvLength }
                return pages[cur] == nil ? Errno.invalid.negated : Errno.noMemory.negated
            }
            s = entry
            let chunkSize = UInt((j - cur) << memory.geometry.shift) - UInt(offset)
            setPage(entry, page, length: UInt32(min(size, chunkSize)), offset: offset)
            added += 1
            size = size &- chunkSize
            offset = 0
            cur = j
        }
        table.pointee.sgt.nents += added
        table.pointee.sgt.orig_nents = table.pointee.sgt.nents
        table.pointee.prv = s
        if leftPages == 0, let s { markEnd(s) }
        return 0
    }

    /// Kernel: sg_alloc_table_from_pages_segment.
    public static func tableFromPages(_ sgt: UnsafeMutablePointer<SGTable>,
                                      pages: UnsafeMutablePointer<UnsafeMutablePointer<PageFrame>?>, count: UInt32,
                                      offset: UInt32, size: UInt, maxSegment: UInt32, gfp: GFP,
                                      memory: SimulatedMemory) -> Int32 {
        var append = sg_append_table()
        let err = withUnsafeMutablePointer(to: &append) { a in
            let e = appendFromPages(a, pages: pages, count: count, offset: offset, size: size, maxSegment: maxSegment,
                                    leftPages: 0, gfp: gfp, memory: memory)
            if e != 0 { freeAppendTable(a, memory: memory) }
            return e
        }
        if err != 0 { return err }
        sgt.pointee = append.sgt
        if append.total_nents != sgt.pointee.orig_nents {
            Kernel.warn("sg_alloc_table_from_pages_segment: \(append.total_nents) entries allocated for \(sgt.pointee.orig_nents)")
        }
        return 0
    }

    /// Kernel: sg_free_append_table.
    public static func freeAppendTable(_ table: UnsafeMutablePointer<sg_append_table>, memory: SimulatedMemory) {
        withUnsafeMutablePointer(to: &table.pointee.sgt) { freeChunks($0, entries: table.pointee.total_nents, memory: memory) }
    }

    // MARK: Copies. Kernel: sg_copy_buffer, sg_zero_buffer.

    /// Copy between a buffer and the list's data (or zero the data when `buffer` is nil), skipping `skip`
    /// bytes of the list. Returns the bytes done.
    public static func copy(_ sgl: UnsafeMutablePointer<Scatterlist>, _ nents: UInt32, buffer: UnsafeMutableRawPointer?,
                            length: Int, skip: Int, toBuffer: Bool, memory: SimulatedMemory) -> Int {
        var done = 0
        var skip = max(skip, 0)
        var stopped = false
        forEach(sgl, Int32(truncatingIfNeeded: nents)) { s in
            guard !stopped, done < length else { return }
            let len = Int(s.pointee.length)
            if skip >= len {
                skip -= len
                return
            }
            guard let p = page(s), let base = memory.physical.virtualAddress(of: p) else {
                Kernel.warn("sg_copy_buffer: an entry whose page is not simulated RAM")
                stopped = true
                return
            }
            let data = base + Int(s.pointee.offset) + skip
            let n = min(len - skip, length - done)
            if let buffer {
                if toBuffer { memcpy(buffer + done, data, n) } else { memcpy(data, buffer + done, n) }
            } else {
                memset(data, 0, n)
            }
            done += n
            skip = 0
        }
        return done
    }

    // MARK: Page iterators. Kernel: __sg_page_iter_start, __sg_page_iter_next, __sg_page_iter_dma_next.

    public static func iterStart(_ it: UnsafeMutablePointer<sg_page_iter>, _ sgl: UnsafeMutablePointer<Scatterlist>?,
                                 _ nents: UInt32, _ pgoffset: UInt) {
        it.pointee.__pg_advance = 0
        it.pointee.__nents = nents
        it.pointee.sg = sgl
        it.pointee.sg_pgoffset = UInt32(truncatingIfNeeded: pgoffset)
    }

    public static func iterNext(_ it: UnsafeMutablePointer<sg_page_iter>, dma: Bool, _ g: PageGeometry) -> Bool {
        guard it.pointee.__nents != 0, var sg = it.pointee.sg else { return false }
        it.pointee.sg_pgoffset = UInt32(truncatingIfNeeded: Int(it.pointee.sg_pgoffset) + Int(it.pointee.__pg_advance))
        it.pointee.__pg_advance = 1
        while true {
            let len = Int(dma ? sg.pointee.dma_length : sg.pointee.length)
            let pages = UInt32(pageAlign(Int(sg.pointee.offset) + len, g) >> g.shift)
            if it.pointee.sg_pgoffset < pages { return true }
            it.pointee.sg_pgoffset -= pages
            it.pointee.__nents -= 1
            guard let n = next(sg), it.pointee.__nents != 0 else {
                it.pointee.sg = next(sg)
                return false
            }
            sg = n
            it.pointee.sg = n
        }
    }
}
