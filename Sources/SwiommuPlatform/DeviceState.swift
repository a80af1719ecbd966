// swiommu's per-device state, hung off `struct device::swiommu`: managed resources (devres), the
// matched table entry, and what the library allocated for the device.
import Glibc
import CKernel
import Synchronization
import SwiommuBase

public typealias Device = CKernel.device
public typealias PlatformDevice = CKernel.platform_device
public typealias PlatformDriver = CKernel.platform_driver

/// One managed resource, released at unbind in reverse order. Kernel: drivers/base/devres.c.
enum Devres {
    case memory(UnsafeMutableRawPointer)
    case action(@convention(c) (UnsafeMutableRawPointer?) -> Void, UnsafeMutableRawPointer?)
}

public final class DeviceState {
    /// Managed resources, oldest first.
    var devres: [Devres] = []
    /// The of_match_table entry the bound driver matched.
    public var matchedEntry: UnsafePointer<of_device_id>?
    /// Whether the device sits on the deferred-probe list.
    var deferred = false
    /// Memory the library allocated for this device (names, resources, platform data), freed with it.
    var owned: [UnsafeMutableRawPointer] = []
    /// True for devices made by platform_device_alloc(): their memory goes at the last put_device().
    var allocatedByAPI = false
    /// The reason of the last -EPROBE_DEFER, for the "deferred probe pending" message.
    var deferReason = ""
    /// Its DMA channels: "iommus" entries (or the host bridge's iommu-map), else one direct channel.
    public var channels: [DMAChannel] = [DMAChannel(index: 0, iommu: nil, ids: [])]
    /// What of_iommu_configure concluded at the last bind.
    public var iommuLink: IOMMULink = .none
    /// Reserved IOVA regions from "memory-region" + "iommu-addresses".
    public var reservedRegions: [ReservedRegion] = []
    /// The requester ID of a PCI-like device (bus << 8 | devfn), nil for others.
    public var requesterID: UInt32?
    /// The host bridge node of a PCI-like device: its DMA configuration and iommu-map apply.
    public var hostBridge: UnsafeMutablePointer<DeviceNode>?
    /// The bound driver's driver_managed_dma.
    public var driverManagedDMA = false
    /// Linux interrupt numbers from the device tree "interrupts" (of_irq_get's answers).
    public var interrupts: [UInt32] = []
    /// Faults this device's DMA raised (counted by the threads that DMA, atomically).
    let dmaFaultCount = Atomic<UInt64>(0)
    public var dmaFaults: UInt64 { dmaFaultCount.load(ordering: .relaxed) }
    public func countDMAFault() { dmaFaultCount.add(1, ordering: .relaxed) }
    /// The IOMMU core's per-channel cache of where device DMA goes (its type is the core's): a retained
    /// reference (Unmanaged.toOpaque) published with a release store, so that device DMA on any thread reads
    /// it without a lock. A cache that is replaced stays in `retiredPortCaches` until the device goes, as a
    /// reader may still hold it.
    public let iommuPortCache = Atomic<UnsafeMutableRawPointer?>(nil)
    public var retiredPortCaches: [AnyObject] = []
    /// Channels behind further IOMMU instances (swiommu's channel extension): one hidden device per
    /// instance, probed into it as the master is into the first, so each route has its group and domain.
    public var routeDevices: [UnsafeMutablePointer<Device>] = []
    /// For a route device: the master it stands for.
    public var routeOwner: UnsafeMutablePointer<Device>?

    init() {}

    deinit {
        if let raw = iommuPortCache.load(ordering: .acquiring) { Unmanaged<AnyObject>.fromOpaque(raw).release() }
    }

    /// The state of a device, creating it on first use.
    public static func of(_ dev: UnsafeMutablePointer<Device>) -> DeviceState {
        if let raw = dev.pointee.swiommu {
            return Unmanaged<DeviceState>.fromOpaque(UnsafeRawPointer(raw)).takeUnretainedValue()
        }
        let s = DeviceState()
        dev.pointee.swiommu = OpaquePointer(Unmanaged.passRetained(s).toOpaque())
        return s
    }

    /// The number of channels of a device that has state, without a reference count (hot paths).
    @inline(__always)
    public static func channelCount(_ dev: UnsafeMutablePointer<Device>) -> Int {
        guard let raw = dev.pointee.swiommu else { return 1 }
        return Unmanaged<DeviceState>.fromOpaque(UnsafeRawPointer(raw))._withUnsafeGuaranteedRef { $0.channels.count }
    }

    /// Detach and release the state of a device that goes away.
    public static func drop(_ dev: UnsafeMutablePointer<Device>) {
        guard let raw = dev.pointee.swiommu else { return }
        let s = Unmanaged<DeviceState>.fromOpaque(UnsafeRawPointer(raw))
        for p in s.takeUnretainedValue().owned { free(p) }
        if let map = dev.pointee.dma_range_map {
            free(UnsafeMutableRawPointer(mutating: map))
            dev.pointee.dma_range_map = nil
        }
        s.release()
        dev.pointee.swiommu = nil
    }

    /// A C string that lives as long as the device (for names the layers above give devices they make).
    public func keepName(_ s: String) -> UnsafeMutablePointer<CChar> { keep(s) }

    /// A C string that lives as long as the device.
    func keep(_ s: String) -> UnsafeMutablePointer<CChar> {
        let p = strdup(s)!
        owned.append(UnsafeMutableRawPointer(p))
        return p
    }
}

/// Offsets of embedded structs, for container_of in both directions.
private let deviceOffset = MemoryLayout<PlatformDevice>.offset(of: \PlatformDevice.dev)!

extension UnsafeMutablePointer where Pointee == PlatformDevice {
    /// `&pdev->dev`.
    @inlinable public var device: UnsafeMutablePointer<Device> {
        (UnsafeMutableRawPointer(self) + MemoryLayout<PlatformDevice>.offset(of: \PlatformDevice.dev)!)
            .assumingMemoryBound(to: Device.self)
    }
}

extension UnsafeMutablePointer where Pointee == Device {
    /// `to_platform_device(dev)`.
    public var platformDevice: UnsafeMutablePointer<PlatformDevice> {
        (UnsafeMutableRawPointer(self) - deviceOffset).assumingMemoryBound(to: PlatformDevice.self)
    }
}

/// Log a message about a device with the kernel's "<driver> <device>: " prefix. Kernel: dev_printk.
public func devPrintk(_ level: LogLevel, _ dev: UnsafeMutablePointer<Device>, _ message: String) {
    Kernel.log(level, driver: String(cString: dev_driver_string(dev)), device: String(cString: dev_name(dev)), message)
}
