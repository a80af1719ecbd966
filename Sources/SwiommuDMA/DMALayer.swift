// The DMA layer of a machine: the swiotlb default pool, and each device's DMA routes, set up when a driver
// binds (of_dma_configure's place, where the kernel runs iommu_setup_dma_ops) and dropped at unbind.
// Per-device state hangs off `struct device::swiommu_dma`, so the hot paths reach it without a lookup.
import Glibc
import CKernel
import CSwiommuGlue
import SwiommuBase
import SwiommuIOMMU
import SwiommuMemory
import SwiommuPlatform

/// Where one channel's DMA API calls go.
public enum DMARoute: Equatable {
    /// dma-direct: bus addresses through dma-ranges, swiotlb when needed.
    case direct
    /// dma-iommu, in this DMA API domain (IOMMU_DOMAIN_DMA or IOMMU_DOMAIN_DMA_FQ).
    case iommu(UnsafeMutablePointer<IOMMUDomain>)
    /// Behind an IOMMU the core cannot serve for this channel: every call fails loudly.
    case unavailable

    public static func == (a: DMARoute, b: DMARoute) -> Bool {
        switch (a, b) {
        case (.direct, .direct), (.unavailable, .unavailable): true
        case (.iommu(let x), .iommu(let y)): x == y
        default: false
        }
    }
}

/// The DMA layer's state of one device, reached through `dev->swiommu_dma`.
struct DMADeviceState {
    /// One route per channel; channel 0's serves the plain DMA API calls.
    var routes: UnsafeMutablePointer<DMARoute>
    var channelCount: Int
    /// What the DMA API did for the device while counting was on (swiommu_dma_counters_enable): maps, unmaps,
    /// mapped bytes, unmapped bytes, syncs, bytes bounced through swiotlb. Updated atomically.
    var counters: (Int, Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0, 0)
}

/// Per-device counting of the DMA API (off by default: bit 62 of the hooks' mask, so it costs nothing then).
public enum DMACounters {
    public enum Kind: Int { case maps, unmaps, mappedBytes, unmappedBytes, syncs, bouncedBytes }

    @inline(__always) public static var enabled: Bool {
        get { Counting.enabled }
        set { Counting.enabled = newValue }
    }

    /// The counters of a device's state, as words for the atomics. Reached by offset: `&st.pointee.counters`
    /// would be a formal modify access of the whole state, which the threads that read its routes race with.
    @inline(__always)
    static func words(_ st: UnsafeMutablePointer<DMADeviceState>) -> UnsafeMutablePointer<Int> {
        (UnsafeMutableRawPointer(st) + countersOffset).assumingMemoryBound(to: Int.self)
    }

    static let countersOffset = MemoryLayout<DMADeviceState>.offset(of: \DMADeviceState.counters)!

    /// Add `value` to a counter of `dev` (a device the DMA layer configured; others are not counted).
    @inline(__always)
    static func add(_ dev: UnsafeMutablePointer<Device>, _ kind: Kind, _ value: Int) {
        guard enabled, let st = DMALayer.state(dev) else { return }
        _ = swiommu_glue_atomic_add_long(words(st) + kind.rawValue, value)
    }

    /// The counters of `dev`, nil for a device the DMA layer has not configured (not bound).
    public static func read(_ dev: UnsafeMutablePointer<Device>) -> [Int]? {
        guard let st = DMALayer.state(dev) else { return nil }
        let p = words(st)
        return (0..<6).map { swiommu_glue_atomic_load_long(p + $0) }
    }
}

public final class DMALayer: @unchecked Sendable {
    @usableFromInline nonisolated(unsafe) static var up: Unmanaged<DMALayer>?
    nonisolated(unsafe) private static var installed = false

    /// The layer of the machine that is up.
    public static var current: DMALayer? { up?.takeUnretainedValue() }

    /// Run `body` with the current layer without reference counting; nil when the machine is down.
    @inlinable @inline(__always)
    public static func withCurrent<R>(_ body: (DMALayer) -> R) -> R? {
        guard let u = up else { return nil }
        return u._withUnsafeGuaranteedRef(body)
    }

    public unowned let machine: Machine
    public let memory: SimulatedMemory
    /// RAM's banks and the page shift, copied for the hot paths (no class access per operation).
    let banks: UnsafeMutableBufferPointer<RAMBank>
    let pageShift: Int
    /// The kernel's io_tlb_default_mem: every device's `dma_io_tlb_mem`.
    public let swiotlbMemory: UnsafeMutablePointer<io_tlb_mem>
    let lock = Lock()
    /// Devices that carry DMA state, to release it at shutdown.
    private var configured: [UnsafeMutablePointer<Device>] = []
    /// Live dmam_alloc_attrs() records (struct dma_devres).
    var devres: [UnsafeMutableRawPointer] = []

    private init(machine: Machine) {
        self.machine = machine
        memory = machine.memory
        banks = machine.memory.physical.banks
        pageShift = machine.memory.geometry.shift
        swiotlbMemory = SwiotlbPool.createDefault(memory: machine.memory, options: machine.board.options)
    }

    /// Attach a DMA layer to every machine that boots from now on (after the IOMMU core's hooks).
    public static func install() {
        if installed { return }
        installed = true
        DMADebug.install()
        Machine.bootHooks.append { machine in
            WarnOnce.reset()
            let layer = DMALayer(machine: machine)
            up = Unmanaged.passRetained(layer)
            let configure = machine.drivers.dmaConfigure
            machine.drivers.dmaConfigure = { [unowned layer] dev in
                let ret = configure?(dev) ?? 0
                if ret == 0 { layer.configure(dev) }
                return ret
            }
            let cleanup = machine.drivers.dmaCleanup
            machine.drivers.dmaCleanup = { [unowned layer] dev in
                layer.teardown(dev)
                cleanup?(dev)
            }
        }
        Machine.shutdownHooks.append { _ in
            guard let u = up else { return }
            u.takeUnretainedValue().shutdown()
            u.release()
            up = nil
        }
    }

    private func shutdown() {
        let devices = lock.withLock { configured }
        for dev in devices { teardown(dev) }
        SwiotlbPool.destroy(swiotlbMemory, memory: memory)
    }

    // MARK: Per-device set-up. Kernel: iommu_setup_dma_ops, swiotlb_dev_init, arch_setup_dma_ops.

    /// The device's state, or nil for a device that never bound (it takes the direct path).
    @inline(__always)
    static func state(_ dev: UnsafeMutablePointer<Device>) -> UnsafeMutablePointer<DMADeviceState>? {
        dev.pointee.swiommu_dma.map { UnsafeMutableRawPointer($0).assumingMemoryBound(to: DMADeviceState.self) }
    }

    /// page_to_phys(page) + offset when [that, + size) is RAM of one bank; nil otherwise.
    @inline(__always)
    func physicalAddress(of page: UnsafeMutablePointer<PageFrame>, offset: Int, size: Int) -> PhysicalAddress? {
        for i in 0..<banks.count {
            let b = banks[i]
            // Compare pointers first: the index is a division by the size of struct page.
            guard page >= b.pages && page < b.pages + b.pageCount else { continue }
            let index = page - b.pages
            let start = index &<< pageShift &+ offset
            guard offset >= 0, size > 0, start &+ size <= b.pageCount &<< pageShift, start &+ size > start else { return nil }
            return b.start + UInt64(start)
        }
        return nil
    }

    /// Kernel: swiotlb_dev_init: every device bounces through the default pool.
    @inline(__always)
    public func attachSwiotlb(_ dev: UnsafeMutablePointer<Device>) {
        if dev.pointee.dma_io_tlb_mem == nil { dev.pointee.dma_io_tlb_mem = swiotlbMemory }
    }

    /// Work out every channel's route after of_dma_configure, and set up dma-iommu for the DMA domains.
    func configure(_ dev: UnsafeMutablePointer<Device>) {
        attachSwiotlb(dev)
        teardown(dev)
        let count = max(DeviceState.of(dev).channels.count, 1)
        let routes = UnsafeMutablePointer<DMARoute>.allocate(capacity: count)
        var readyDomains: [UnsafeMutablePointer<IOMMUDomain>] = []
        for ch in 0..<count {
            var r = Self.route(of: dev, channel: ch)
            if case .iommu(let d) = r, !readyDomains.contains(d) {
                // Kernel: iommu_setup_dma_ops (iommu_dma_init_domain for this domain).
                if IOMMUDMA.setup(dev, domain: d) == 0 {
                    readyDomains.append(d)
                } else {
                    devPrintk(.warning, dev, "Failed to set up IOMMU for device \(String(cString: dev_name(dev))); "
                              + "retaining platform DMA ops")
                    r = .direct
                }
            }
            (routes + ch).initialize(to: r)
        }
        let st = UnsafeMutablePointer<DMADeviceState>.allocate(capacity: 1)
        st.initialize(to: DMADeviceState(routes: routes, channelCount: count))
        dev.pointee.swiommu_dma = OpaquePointer(st)
        if case .iommu = routes[0] { dev.pointee.dma_iommu = true }
        lock.withLock { configured.append(dev) }
    }

    /// Drop the device's routes (unbind, shutdown). Kernel: device_unbind_cleanup -> arch_teardown_dma_ops.
    func teardown(_ dev: UnsafeMutablePointer<Device>) {
        guard let st = Self.state(dev) else { return }
        dev.pointee.swiommu_dma = nil
        dev.pointee.dma_iommu = false
        st.pointee.routes.deinitialize(count: st.pointee.channelCount)
        st.pointee.routes.deallocate()
        st.deinitialize(count: 1)
        st.deallocate()
        lock.withLock { configured.removeAll { $0 == dev } }
    }

    /// The DMA API's route for one channel. Kernel: iommu_get_dma_domain: the group's default domain, even
    /// while a driver has attached its own (UNMANAGED) domain; an IDENTITY default domain is dma-direct.
    static func route(of dev: UnsafeMutablePointer<Device>, channel: Int) -> DMARoute {
        guard let core = IOMMUCore.current else { return .direct }
        switch core.route(of: dev, channel: channel) {
        case .direct:
            return .direct
        case .unavailable:
            return .unavailable
        case .translated(let current, let route):
            // The device's first route is its group's: the DMA API uses the default domain.
            let domain = route == 0 ? (core.group(of: dev)?.defaultDomain ?? current) : current
            let type = domain.pointee.type
            if type == IOMMU_DOMAIN_IDENTITY_VALUE { return .direct }
            if type & dmaAPIDomainBit != 0 { return .iommu(domain) }
            return .unavailable
        }
    }

    /// The route of one channel of a configured device (`.direct` for a device that never bound).
    @inline(__always)
    static func route(_ dev: UnsafeMutablePointer<Device>, channel: Int) -> DMARoute? {
        guard let st = state(dev) else {
            return channel >= 0 && channel < max(DeviceState.of(dev).channels.count, 1) ? .direct : nil
        }
        guard channel >= 0, channel < st.pointee.channelCount else { return nil }
        return st.pointee.routes[channel]
    }

    /// Channels the device has (its "iommus" entries; 1 without).
    static func channelCount(_ dev: UnsafeMutablePointer<Device>) -> Int {
        state(dev)?.pointee.channelCount ?? max(DeviceState.of(dev).channels.count, 1)
    }
}

/// Kernel: __IOMMU_DOMAIN_DMA_API.
let dmaAPIDomainBit: UInt32 = 1 << 1
