// swiommu_init, swiommu_exit and the other machine-level calls of include/swiommu/machine.h.
import CKernel
import SwiommuBase
import SwiommuDMA
import SwiommuIOMMU
import SwiommuMemory
import SwiommuPlatform

let swiommuVersion: StaticString = "0.1.0"

@c(swiommu_init)
public func abiInit(_ board: UnsafePointer<CChar>?) -> CInt {
    abiInitPageShift(board, 12)
}

@c(swiommu_init_page_shift)
public func abiInitPageShift(_ board: UnsafePointer<CChar>?, _ pageShift: CUnsignedInt) -> CInt {
    guard let geometry = PageGeometry(shift: Int(pageShift)) else {
        Kernel.log(.error, "swiommu: swiommu_init: unsupported PAGE_SHIFT \(pageShift) (12, 14 or 16)")
        return Errno.invalid.negated
    }
    if Machine.current != nil {
        Kernel.log(.error, "swiommu: swiommu_init: the machine is already up; call swiommu_exit() first")
        return Errno.busy.negated
    }
    IOMMUCore.install()
    DMALayer.install()
    let loaded: Board
    do throws(BoardError) {
        if let board { loaded = try Board.load(path: String(cString: board)) } else { loaded = try Board.defaultBoard() }
    } catch {
        Kernel.log(.error, "swiommu: \(error)")
        return error.errno.negated
    }
    do {
        try Machine.boot(board: loaded, geometry: geometry)
        return 0
    } catch {
        return error.negated
    }
}

@c(swiommu_exit)
public func abiExit() {
    Machine.current?.shutdown()
}

@c(swiommu_is_up)
public func abiIsUp() -> Bool { Machine.current != nil }

@c(swiommu_page_shift)
public func abiPageShift() -> CUnsignedInt {
    Machine.current.map { CUnsignedInt($0.geometry.shift) } ?? 0
}

@c(swiommu_find_device)
public func abiFindDevice(_ name: UnsafePointer<CChar>?) -> UnsafeMutablePointer<device>? {
    guard let name, let m = Machine.current else { return nil }
    return m.drivers.findDevice(String(cString: name))
}

@c(swiommu_version)
public func abiVersion() -> UnsafePointer<CChar>? {
    UnsafeRawPointer(swiommuVersion.utf8Start).assumingMemoryBound(to: CChar.self)
}

@c(swiommu_fail_nth)
public func abiFailNth(_ point: UnsafePointer<CChar>?, _ nth: CUnsignedLong) -> CInt {
    guard let point, let p = FaultPoint(name: String(cString: point)) else {
        let name = point.map { String(cString: $0) } ?? "(null)"
        let known = FaultPoint.allCases.map(\.name).joined(separator: ", ")
        Kernel.log(.error, "swiommu: swiommu_fail_nth: unknown fault-injection point '\(name)' (known: \(known))")
        return Errno.invalid.negated
    }
    FaultInjection.failNth(p, Int(nth))
    return 0
}
