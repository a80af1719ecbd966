// dma-debug: the switches, the error report (the kernel's err_printk: a WARN whose text is "DMA-API: <driver>
// <device>: <message>"), the records tests read, and the machine's boot, unbind and shutdown hooks. The
// checks are in DMADebugChecks.swift (the kernel's) and DMADebugDevice.swift (swiommu's).
// Kernel: kernel/dma/debug.c.
import Glibc
import CKernel
import CSwiommuGlue
import SwiommuBase
import SwiommuIOMMU
import SwiommuPlatform

/// The check that found an error. Raw values are C's `enum swiommu_dma_debug_kind`.
public enum DMADebugCheck: UInt32, Sendable, CaseIterable {
    case freeInvalid = 0, freeNotAllocated, freeSize, freeFunction, freeCPUAddress, freeSGCount, freeDirection
    case mapErrorNotChecked
    case syncNotAllocated, syncDirection, syncReadOnly, syncWriteOnly, syncSGCount
    case mapStack, mapText, mapInvalid, mapVmalloc
    case sgSegmentLength, sgSegmentBoundary
    case overlap, overlapLimit
    case pendingAtUnbind
    // swiommu's checks.
    case cpuWriteUnsynced, deviceWriteCPUOwned, staleIOTLB, cpuReadUnsynced, cpuAccessDeviceOwned

    /// The C enumerator without its SWIOMMU_DMA_DEBUG_ prefix (swiommu_dma_debug_kind_name()).
    public var name: StaticString {
        switch self {
        case .freeInvalid: "FREE_INVALID"
        case .freeNotAllocated: "FREE_NOT_ALLOCATED"
        case .freeSize: "FREE_SIZE"
        case .freeFunction: "FREE_FUNCTION"
        case .freeCPUAddress: "FREE_CPU_ADDRESS"
        case .freeSGCount: "FREE_SG_COUNT"
        case .freeDirection: "FREE_DIRECTION"
        case .mapErrorNotChecked: "MAP_ERROR_NOT_CHECKED"
        case .syncNotAllocated: "SYNC_NOT_ALLOCATED"
        case .syncDirection: "SYNC_DIRECTION"
        case .syncReadOnly: "SYNC_READ_ONLY"
        case .syncWriteOnly: "SYNC_WRITE_ONLY"
        case .syncSGCount: "SYNC_SG_COUNT"
        case .mapStack: "MAP_STACK"
        case .mapText: "MAP_TEXT"
        case .mapInvalid: "MAP_INVALID"
        case .mapVmalloc: "MAP_VMALLOC"
        case .sgSegmentLength: "SG_SEGMENT_LENGTH"
        case .sgSegmentBoundary: "SG_SEGMENT_BOUNDARY"
        case .overlap: "OVERLAP"
        case .overlapLimit: "OVERLAP_LIMIT"
        case .pendingAtUnbind: "PENDING_AT_UNBIND"
        case .cpuWriteUnsynced: "CPU_WRITE_UNSYNCED"
        case .deviceWriteCPUOwned: "DEVICE_WRITE_CPU_OWNED"
        case .staleIOTLB: "STALE_IOTLB"
        case .cpuReadUnsynced: "CPU_READ_UNSYNCED"
        case .cpuAccessDeviceOwned: "CPU_ACCESS_DEVICE_OWNED"
        }
    }
}

/// One error reported (C's struct swiommu_dma_debug_record).
public struct DMADebugRecord {
    /// The device; it may be gone by the time the record is read.
    public var dev: UnsafeMutablePointer<Device>?
    public var device: String
    public var driver: String
    public var check: DMADebugCheck
    /// The DMA address the error is about (the CPU address for dma_map_single()'s checks).
    public var address: UInt64
    public var size: UInt64
    /// The whole logged text, "DMA-API: <driver> <device>: ...".
    public var message: String
}

public enum DMADebug {
    /// Whether mappings are tracked now: the one load and branch every DMA API hook costs when off.
    /// Whether dma-debug watches the DMA API now: bit 63 of the hooks' mask, so that the dispatcher's hooks
    /// check one word for tracing and dma-debug together.
    public static var active: Bool {
        @inline(__always) get { swiommu_glue_trace_get_mask() & (1 << 63) != 0 }
        set { swiommu_glue_trace_set_bit(63, newValue) }
    }
    /// The switch (the kernel's dma_debug=off): read at boot; off also applies at once.
    nonisolated(unsafe) static var wanted = true
    nonisolated(unsafe) static var abortOnError = false
    nonisolated(unsafe) private static var installed = false

    /// Records keep the newest this many. C: SWIOMMU_DMA_DEBUG_RECORDS.
    public static let recordLimit = 256
    /// C: SWIOMMU_DMA_DEBUG_NAME_MAX (the kernel's NAME_MAX_LEN).
    public static let nameLimit = 64

    /// Guards the error count, the records, the filter and the switches (never taken on a hot path).
    private static let lock = Lock()
    nonisolated(unsafe) private static var errors: UInt = 0
    nonisolated(unsafe) private static var kept: [DMADebugRecord] = []
    nonisolated(unsafe) private static var firstKept = 0
    nonisolated(unsafe) private static var filter = ""
    nonisolated(unsafe) private static var overlapLimitWarned = false
    /// swiommu_dma_debug_last()'s text, a C string that lives until the next error.
    nonisolated(unsafe) private static var lastText: UnsafeMutablePointer<CChar> = {
        let p = UnsafeMutablePointer<CChar>.allocate(capacity: 512)
        p.initialize(to: 0)
        return p
    }()

    // MARK: Machine hooks

    /// Track mappings on every machine from now on: at boot (the kernel's dma_debug_init), at each driver
    /// unbind (its bus notifier), for the device's own DMA (swiommu's checks) and at shutdown.
    static func install() {
        if installed { return }
        installed = true
        Machine.bootHooks.append { machine in
            boot()
            let unbound = machine.drivers.driverUnbound
            machine.drivers.driverUnbound = { dev in
                unbound?(dev)
                if CPUTrap.on {
                    CPUTrap.drain()
                    swiommu_glue_trap_release_device(UInt(bitPattern: dev))
                }
                if active { driverUnbound(dev) }
            }
        }
        Machine.shutdownHooks.append { _ in
            if CPUTrap.on { CPUTrap.drain() }
            swiommu_glue_trap_release_all()
            active = false
            DebugTable.dropAll()
        }
        DeviceDMA.accessHook = { dev, channel, addr, size, direction, domain, model in
            if active {
                deviceAccess(dev, channel: channel, address: addr, size: size, write: direction == .write,
                             domain: domain, throughModel: model)
            }
        }
    }

    private static func boot() {
        lock.withLock {
            errors = 0
            kept = []
            firstKept = 0
            overlapLimitWarned = false
            lastText[0] = 0
        }
        DebugTable.dropAll()
        guard wanted else {
            Kernel.log(.info, "DMA-API: debugging disabled on kernel command line")
            return
        }
        guard DebugTable.setUp() else {
            Kernel.log(.error, "DMA-API: debugging out of memory error - disabled")
            return
        }
        Kernel.log(.info, "DMA-API: preallocated \(DebugTable.totalEntries) debug entries")
        Kernel.log(.info, "DMA-API: debugging enabled by kernel config")
        active = true
    }

    /// The pool cannot grow: stop, as the kernel's dma_entry_alloc does.
    static func outOfMemory() {
        active = false
        Kernel.log(.error, "DMA-API: debugging out of memory - disabling")
    }

    // MARK: Switches (swiommu/dma_debug.h)

    /// 0, or -EBUSY when switching on while a machine is up without dma-debug.
    public static func enable(_ on: Bool) -> Int32 {
        lock.lock()
        if on {
            if Machine.current != nil && !active {
                lock.unlock()
                return Errno.busy.negated
            }
            wanted = true
            lock.unlock()
            return 0
        }
        wanted = false
        let wasActive = active
        active = false
        lock.unlock()
        if wasActive {
            Kernel.log(.info, "DMA-API: debugging disabled")
            DebugTable.dropAll()
        }
        return 0
    }

    public static var isEnabled: Bool { Machine.current != nil ? active : wanted }

    /// Report only errors of the driver or device called `name` ("" for all). -EINVAL for a name too long.
    public static func setFilter(_ name: String) -> Int32 {
        guard name.utf8.count < nameLimit else { return Errno.invalid.negated }
        let old = lock.withLock {
            let old = filter
            filter = name
            return old
        }
        // Kernel: filter_write's messages.
        if name.isEmpty {
            if !old.isEmpty { Kernel.log(.info, "DMA-API: switching off dma-debug driver filter") }
        } else {
            Kernel.log(.info, "DMA-API: enable driver filter for driver [\(name)]")
        }
        return 0
    }

    public static func setAbort(_ on: Bool) { lock.withLock { abortOnError = on } }

    /// Switch the CPU trap (DMADebugCPUTrap.swift): 0, or -EOPNOTSUPP off x86-64 Linux.
    public static func trapCPUAccess(_ on: Bool) -> Int32 { CPUTrap.enable(on) }

    // MARK: What was found

    public static var errorCount: UInt {
        if CPUTrap.on { CPUTrap.drain() }
        return lock.withLock { errors }
    }

    public static var lastMessage: UnsafePointer<CChar> {
        if CPUTrap.on { CPUTrap.drain() }
        return UnsafePointer(lastText)
    }

    public static func reset() {
        lock.withLock {
            errors = 0
            kept = []
            firstKept = 0
            lastText[0] = 0
        }
    }

    public static var recordCount: Int {
        if CPUTrap.on { CPUTrap.drain() }
        return lock.withLock { kept.count }
    }

    /// Record `index`, oldest first; nil past the end.
    public static func record(_ index: Int) -> DMADebugRecord? {
        lock.withLock {
            guard index >= 0 && index < kept.count else { return nil }
            return kept[(firstKept + index) % kept.count]
        }
    }

    /// Mappings tracked, of `dev` or of every device. Kernel: device_dma_allocations.
    public static func mappings(_ dev: UnsafeMutablePointer<Device>?) -> Int {
        guard active else { return 0 }
        guard let dev else { return DebugTable.inUse }
        var n = 0
        DebugTable.forEach { _, e in if e.pointee.dev == dev { n += 1 } }
        return n
    }

    // MARK: Reporting. Kernel: err_printk, driver_filter.

    /// Kernel: driver_filter (which matches the bound driver's name; this one the device's name too).
    private static func passes(_ dev: UnsafeMutablePointer<Device>?, _ filter: String) -> Bool {
        if filter.isEmpty { return true }
        guard let dev else { return false }
        if let drv = dev.pointee.driver, let name = drv.pointee.name, String(cString: name) == filter { return true }
        return dev_name(dev).map { String(cString: $0) == filter } ?? false
    }

    /// Count an error and, unless the filter hides it, log it as a WARN ("DMA-API: <driver> <device>: " +
    /// `text`, or "DMA-API: " + `text` for the kernel's messages without a device), keep it, and abort when
    /// asked to.
    @inline(never)
    static func report(_ dev: UnsafeMutablePointer<Device>?, _ check: DMADebugCheck, address: UInt64, size: UInt64,
                       _ text: String, withDevice: Bool = true, file: StaticString = #fileID, line: Int = #line,
                       function: StaticString = #function) {
        let name = dev.flatMap { dev_name($0) }.map { String(cString: $0) } ?? "NULL"
        let driver = dev.map { String(cString: dev_driver_string($0)) } ?? "NULL"
        let message = withDevice ? "DMA-API: \(driver) \(name): \(text)" : "DMA-API: \(text)"
        lock.lock()
        errors += 1
        guard passes(dev, filter) else {
            lock.unlock()
            return
        }
        let record = DMADebugRecord(dev: dev, device: name, driver: driver, check: check, address: address, size: size,
                                    message: message)
        if kept.count < recordLimit {
            kept.append(record)
        } else {
            kept[firstKept] = record
            firstKept = (firstKept + 1) % recordLimit
        }
        _ = message.withCString { strncpy(lastText, $0, 511) }
        lastText[511] = 0
        let stop = abortOnError
        lock.unlock()
        Kernel.warn(message, file: file, line: line, function: function)
        if stop {
            Kernel.log(.emergency, "DMA-API: aborting at the first error (swiommu_dma_debug_set_abort)")
            abort()
        }
    }

    /// The kernel's WARN_ONCE for the cacheline overlap limit: once per boot.
    static func overlapLimit(_ e: UnsafeMutablePointer<DebugEntry>, line: UInt64) {
        let first = lock.withLock {
            defer { overlapLimitWarned = true }
            return !overlapLimitWarned
        }
        guard first else { return }
        report(e.pointee.dev, .overlapLimit, address: line, size: 0,
               "exceeded \(DebugTable.maxOverlap) overlapping mappings of cacheline \(DebugFormat.pa(line))",
               withDevice: false)
    }
}

/// The kernel's printf formats that dma-debug's messages use.
enum DebugFormat {
    /// %016llx.
    static func hex16(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: max(0, 16 - s.count)) + s
    }

    /// 0x%016llx.
    static func address(_ v: UInt64) -> String { "0x" + hex16(v) }

    /// %pa (a phys_addr_t: 0x and 16 digits).
    static func pa(_ v: UInt64) -> String { "0x" + hex16(v) }

    /// %p as glibc prints it (the kernel hashes it; the raw value is more use here).
    static func pointer(_ p: UnsafeRawPointer?) -> String {
        guard let p else { return "(nil)" }
        return "0x" + String(UInt(bitPattern: p), radix: 16)
    }
}
