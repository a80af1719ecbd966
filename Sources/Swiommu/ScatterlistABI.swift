// linux/scatterlist.h's out-of-line functions: convert and dispatch to SwiommuDMA.SG (lib/scatterlist.c).
import Glibc
import CKernel
import SwiommuBase
import SwiommuDMA
import SwiommuMemory
import SwiommuPlatform

@c(sg_nents)
public func abiSGNents(_ sg: UnsafeMutablePointer<scatterlist>?) -> CInt {
    SG.count(sg)
}

@c(sg_nents_for_len)
public func abiSGNentsForLen(_ sg: UnsafeMutablePointer<scatterlist>?, _ len: u64) -> CInt {
    SG.count(sg, forLength: len)
}

@c(sg_last)
public func abiSGLast(_ s: UnsafeMutablePointer<scatterlist>?, _ nents: CUnsignedInt) -> UnsafeMutablePointer<scatterlist>? {
    guard let s else { return nil }
    return SG.last(s, nents)
}

@c(sg_init_table)
public func abiSGInitTable(_ sgl: UnsafeMutablePointer<scatterlist>?, _ nents: CUnsignedInt) {
    guard let sgl, nents > 0 else { return Kernel.warn("sg_init_table: NULL list or 0 entries") }
    SG.initTable(sgl, nents)
}

@c(sg_init_one)
public func abiSGInitOne(_ sg: UnsafeMutablePointer<scatterlist>?, _ buf: UnsafeRawPointer?, _ buflen: CUnsignedInt) {
    guard let sg else { return Kernel.warn("sg_init_one: NULL entry") }
    SG.initTable(sg, 1)
    withMachine("sg_init_one", ()) { m in
        guard let buf, let page = m.memory.physical.page(containingVirtual: buf) else {
            return Kernel.warn("sg_init_one: \(Kernel.hex(UInt(bitPattern: buf))) is not in the linear map")
        }
        SG.setPage(sg, page, length: buflen, offset: UInt32(UInt(bitPattern: buf) & UInt(m.memory.geometry.size - 1)))
    }
}

@c(sg_alloc_table)
public func abiSGAllocTable(_ table: UnsafeMutablePointer<sg_table>?, _ nents: CUnsignedInt, _ gfp: gfp_t) -> CInt {
    guard let table else { return Errno.invalid.negated }
    return withMachine("sg_alloc_table", Errno.noDevice.negated) {
        SG.allocTable(table, count: nents, gfp: GFP(rawValue: gfp), memory: $0.memory)
    }
}

@c(sg_free_table)
public func abiSGFreeTable(_ table: UnsafeMutablePointer<sg_table>?) {
    guard let table else { return }
    withMachine("sg_free_table", ()) { SG.freeTable(table, memory: $0.memory) }
}

@c(sg_free_append_table)
public func abiSGFreeAppendTable(_ table: UnsafeMutablePointer<sg_append_table>?) {
    guard let table else { return }
    withMachine("sg_free_append_table", ()) { SG.freeAppendTable(table, memory: $0.memory) }
}

@c(sg_alloc_append_table_from_pages)
public func abiSGAllocAppendTableFromPages(_ sgt: UnsafeMutablePointer<sg_append_table>?,
                                           _ pages: UnsafeMutablePointer<UnsafeMutablePointer<page>?>?, _ nPages: CUnsignedInt,
                                           _ offset: CUnsignedInt, _ size: CUnsignedLong, _ maxSegment: CUnsignedInt,
                                           _ leftPages: CUnsignedInt, _ gfp: gfp_t) -> CInt {
    guard let sgt, let pages, nPages > 0 else { return Errno.invalid.negated }
    return withMachine("sg_alloc_append_table_from_pages", Errno.noDevice.negated) {
        SG.appendFromPages(sgt, pages: pages, count: nPages, offset: offset, size: size, maxSegment: maxSegment,
                           leftPages: leftPages, gfp: GFP(rawValue: gfp), memory: $0.memory)
    }
}

@c(sg_alloc_table_from_pages_segment)
public func abiSGAllocTableFromPagesSegment(_ sgt: UnsafeMutablePointer<sg_table>?,
                                            _ pages: UnsafeMutablePointer<UnsafeMutablePointer<page>?>?, _ nPages: CUnsignedInt,
                                            _ offset: CUnsignedInt, _ size: CUnsignedLong, _ maxSegment: CUnsignedInt,
                                            _ gfp: gfp_t) -> CInt {
    guard let sgt, let pages, nPages > 0 else { return Errno.invalid.negated }
    return withMachine("sg_alloc_table_from_pages_segment", Errno.noDevice.negated) {
        SG.tableFromPages(sgt, pages: pages, count: nPages, offset: offset, size: size, maxSegment: maxSegment,
                          gfp: GFP(rawValue: gfp), memory: $0.memory)
    }
}

private func copy(_ caller: StaticString, _ sgl: UnsafeMutablePointer<scatterlist>?, _ nents: CUnsignedInt,
                  _ buf: UnsafeMutableRawPointer?, _ len: size_t, _ skip: off_t, _ toBuffer: Bool) -> size_t {
    guard let sgl else { return 0 }
    return withMachine(caller, 0) {
        SG.copy(sgl, nents, buffer: buf, length: len, skip: Int(skip), toBuffer: toBuffer, memory: $0.memory)
    }
}

@c(sg_copy_buffer)
public func abiSGCopyBuffer(_ sgl: UnsafeMutablePointer<scatterlist>?, _ nents: CUnsignedInt, _ buf: UnsafeMutableRawPointer?,
                            _ buflen: size_t, _ skip: off_t, _ toBuffer: Bool) -> size_t {
    guard buf != nil else { return 0 }
    return copy("sg_copy_buffer", sgl, nents, buf, buflen, skip, toBuffer)
}

@c(sg_copy_from_buffer)
public func abiSGCopyFromBuffer(_ sgl: UnsafeMutablePointer<scatterlist>?, _ nents: CUnsignedInt, _ buf: UnsafeRawPointer?,
                                _ buflen: size_t) -> size_t {
    guard let buf else { return 0 }
    return copy("sg_copy_from_buffer", sgl, nents, UnsafeMutableRawPointer(mutating: buf), buflen, 0, false)
}

@c(sg_copy_to_buffer)
public func abiSGCopyToBuffer(_ sgl: UnsafeMutablePointer<scatterlist>?, _ nents: CUnsignedInt, _ buf: UnsafeMutableRawPointer?,
                              _ buflen: size_t) -> size_t {
    guard buf != nil else { return 0 }
    return copy("sg_copy_to_buffer", sgl, nents, buf, buflen, 0, true)
}

@c(sg_pcopy_from_buffer)
public func abiSGPcopyFromBuffer(_ sgl: UnsafeMutablePointer<scatterlist>?, _ nents: CUnsignedInt, _ buf: UnsafeRawPointer?,
                                 _ buflen: size_t, _ skip: off_t) -> size_t {
    guard let buf else { return 0 }
    return copy("sg_pcopy_from_buffer", sgl, nents, UnsafeMutableRawPointer(mutating: buf), buflen, skip, false)
}

@c(sg_pcopy_to_buffer)
public func abiSGPcopyToBuffer(_ sgl: UnsafeMutablePointer<scatterlist>?, _ nents: CUnsignedInt, _ buf: UnsafeMutableRawPointer?,
                               _ buflen: size_t, _ skip: off_t) -> size_t {
    guard buf != nil else { return 0 }
    return copy("sg_pcopy_to_buffer", sgl, nents, buf, buflen, skip, true)
}

@c(sg_zero_buffer)
public func abiSGZeroBuffer(_ sgl: UnsafeMutablePointer<scatterlist>?, _ nents: CUnsignedInt, _ buflen: size_t,
                            _ skip: off_t) -> size_t {
    copy("sg_zero_buffer", sgl, nents, nil, buflen, skip, false)
}

@c(__sg_page_iter_start)
public func abiSGPageIterStart(_ piter: UnsafeMutablePointer<sg_page_iter>?, _ sglist: UnsafeMutablePointer<scatterlist>?,
                               _ nents: CUnsignedInt, _ pgoffset: CUnsignedLong) {
    guard let piter else { return }
    SG.iterStart(piter, sglist, nents, pgoffset)
}

@c(__sg_page_iter_next)
public func abiSGPageIterNext(_ piter: UnsafeMutablePointer<sg_page_iter>?) -> Bool {
    guard let piter else { return false }
    return withMachine("__sg_page_iter_next", false) { SG.iterNext(piter, dma: false, $0.memory.geometry) }
}

@c(__sg_page_iter_dma_next)
public func abiSGPageIterDMANext(_ dmaIter: UnsafeMutablePointer<sg_dma_page_iter>?) -> Bool {
    guard let dmaIter else { return false }
    return withMachine("__sg_page_iter_dma_next", false) { m in
        withUnsafeMutablePointer(to: &dmaIter.pointee.base) { SG.iterNext($0, dma: true, m.memory.geometry) }
    }
}
