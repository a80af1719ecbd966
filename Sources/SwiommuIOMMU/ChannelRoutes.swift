// Which way a device's DMA channel goes: straight to the bus, or through an IOMMU domain. The DMA layer
// asks this for every mapping call (dma-direct or dma-iommu), the device-DMA model for every transfer.
// Channels are swiommu's extension of the `iommus` binding (DESIGN.md): channel i is entry i.
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
    /// Behind an IOMMU the core cannot serve for this channel yet (no domain attached, or an instance
    /// other than the device's first one before the core models per-channel routes): DMA faults.
    case unavailable
}

extension IOMMUCore {
    /// The route of `channel` of `dev`. Channels out of range are `.unavailable`.
    public func route(of dev: UnsafeMutablePointer<Device>, channel: Int) -> ChannelRoute {
        let state = DeviceState.of(dev)
        guard channel >= 0, channel < state.channels.count else { return .unavailable }
        guard let node = state.channels[channel].iommu, state.iommuLink == .attached else { return .direct }
        guard let inst = dev.pointee.iommu?.pointee.iommu_dev, let g = group(of: dev), let d = g.domain else {
            return .unavailable
        }
        // The master's first instance, or another one its driver programs with it (a second SysMMU).
        if inst.pointee.fwnode == swiommu_glue_of_fwnode(node) { return .translated(domain: d, route: 0) }
        if let master = MasterConfig.of(dev), master.ports.contains(where: { $0.instance.node == node }) {
            return .translated(domain: d, route: 0)
        }
        return .unavailable
    }
}
