// Which way a device's DMA channel goes: straight to the bus, or through an IOMMU domain. The DMA layer
// asks this for every mapping call (dma-direct or dma-iommu), the device-DMA model for every transfer.
// Channels are swiommu's extension of the `iommus` binding (DESIGN.md): channel i is entry i. The
// channels behind the master's first IOMMU instance (and any other its driver programs with it, as
// exynos-iommu does a master's SysMMUs) are route 0, the kernel's dev->iommu, group and domain. Channels
// behind a further instance whose driver takes one instance per master (arm-smmu-v3 does: the kernel
// refuses a second fwnode) form a route of their own: a hidden device probed into that instance, with
// its own group and default domain, as the HIDMA way gives each channel its own device.
import Glibc
import CKernel
import CSwiommuGlue
import SwiommuBase
import SwiommuPlatform

/// The path of one channel.
public enum ChannelRoute {
    /// No translation: a bypass channel (null `iommus` entry), a device without an IOMMU, or one whose
    /// IOMMU has no driver (the kernel carries on without it). Bus addresses go through dma-ranges.
    case direct
    /// Through `domain`, the domain currently attached for the channel's IOMMU instance. `route` numbers
    /// the device's distinct (instance, domain) paths: channels with the same route share addresses.
    case translated(domain: UnsafeMutablePointer<IOMMUDomain>, route: Int)
    /// Behind an IOMMU the core cannot serve for this channel (no domain attached: the probe failed): DMA
    /// faults.
    case unavailable
}

extension IOMMUCore {
    /// The route of `channel` of `dev`. Channels out of range are `.unavailable`.
    public func route(of dev: UnsafeMutablePointer<Device>, channel: Int) -> ChannelRoute {
        let state = DeviceState.of(dev)
        guard channel >= 0, channel < state.channels.count else { return .unavailable }
        guard let node = state.channels[channel].iommu, state.iommuLink == .attached else { return .direct }
        let (owner, route) = routeDevice(of: dev, node: node, state: state)
        guard let owner, let g = group(of: owner), let d = g.domain else { return .unavailable }
        return .translated(domain: d, route: route)
    }

    /// The device that carries `channel`'s route (the master itself, or one of its route devices): the one
    /// whose dev->iommu, group and domain translate the channel. Nil when none does.
    public func routeDevice(of dev: UnsafeMutablePointer<Device>, channel: Int) -> UnsafeMutablePointer<Device>? {
        let state = DeviceState.of(dev)
        guard channel >= 0, channel < state.channels.count, let node = state.channels[channel].iommu else { return nil }
        return routeDevice(of: dev, node: node, state: state).0
    }

    private func routeDevice(of dev: UnsafeMutablePointer<Device>, node: UnsafeMutablePointer<DeviceNode>,
                             state: DeviceState) -> (UnsafeMutablePointer<Device>?, Int) {
        if serves(dev, node) { return (dev, 0) }
        for (i, r) in state.routeDevices.enumerated() where serves(r, node) { return (r, i + 1) }
        return (nil, 0)
    }

    /// Whether `dev`'s IOMMU set-up covers the instance at `node`.
    private func serves(_ dev: UnsafeMutablePointer<Device>, _ node: UnsafeMutablePointer<DeviceNode>) -> Bool {
        guard let inst = dev.pointee.iommu?.pointee.iommu_dev else { return false }
        if inst.pointee.fwnode == swiommu_glue_of_fwnode(node) { return true }
        return MasterConfig.of(dev)?.ports.contains { $0.instance.node == node } ?? false
    }

    // MARK: Route devices

    /// After the master's probe: a route device for each further instance its channels name that the
    /// probe left out. Their failures are logged; the channels then fault.
    func probeRoutes(_ dev: UnsafeMutablePointer<Device>, state: DeviceState) {
        var done: [UnsafeMutablePointer<DeviceNode>] = []
        for ch in state.channels {
            guard let node = ch.iommu, !done.contains(node), !serves(dev, node), instance(for: node) != nil else { continue }
            done.append(node)
            if state.routeDevices.contains(where: { serves($0, node) }) { continue }
            let r = makeRouteDevice(dev, node: node, state: state)
            let ret = probe(r)
            if ret != 0 {
                devPrintk(.warning, r, "Adding to IOMMU failed: \(ret)")
                freeRouteDevice(r)
                continue
            }
            state.routeDevices.append(r)
        }
    }

    private func makeRouteDevice(_ dev: UnsafeMutablePointer<Device>, node: UnsafeMutablePointer<DeviceNode>,
                                 state: DeviceState) -> UnsafeMutablePointer<Device> {
        let r = UnsafeMutablePointer<Device>.allocate(capacity: 1)
        r.initialize(to: Device())
        let rs = DeviceState.of(r)
        let iommuName = instance(for: node)?.pointee.dev.map { String(cString: dev_name($0)) } ?? "iommu"
        r.pointee.init_name = UnsafePointer(rs.keepName("\(String(cString: dev_name(dev)))@\(iommuName)"))
        r.pointee.kobj.refcount = 1
        r.pointee.parent = dev
        r.pointee.bus = dev.pointee.bus
        r.pointee.of_node = dev.pointee.of_node
        r.pointee.fwnode = dev.pointee.fwnode
        r.pointee.dma_mask = dev.pointee.dma_mask
        r.pointee.coherent_dma_mask = dev.pointee.coherent_dma_mask
        r.pointee.bus_dma_limit = dev.pointee.bus_dma_limit
        r.pointee.dma_coherent = dev.pointee.dma_coherent
        r.pointee.numa_node = -1
        rs.channels = state.channels.filter { $0.iommu == node }
        rs.iommuLink = .attached
        rs.requesterID = state.requesterID
        rs.routeOwner = dev
        return r
    }

    private func freeRouteDevice(_ r: UnsafeMutablePointer<Device>) {
        DeviceState.drop(r)
        r.deinitialize(count: 1)
        r.deallocate()
    }

    /// Release a master's route devices (with the master, from release()).
    func releaseRoutes(_ dev: UnsafeMutablePointer<Device>) {
        guard let raw = dev.pointee.swiommu else { return }
        let state = Unmanaged<DeviceState>.fromOpaque(UnsafeRawPointer(raw)).takeUnretainedValue()
        let routes = state.routeDevices
        state.routeDevices.removeAll()
        for r in routes {
            release(r)
            freeRouteDevice(r)
        }
    }
}
