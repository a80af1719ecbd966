// Per-channel mappings (swiommu's extension, DESIGN.md): a device's channels are its "iommus" entries, each
// going straight to the bus or through its own IOMMU domain. dma_map_page_attrs_multi maps a buffer once per
// distinct route and hands every channel its address; channels that share a route share the address.
// Also the managed coherent allocations (devres). Kernel: dmam_alloc_attrs, dmam_free_coherent.
import Glibc
import CKernel
import SwiommuBase
import SwiommuIOMMU
import SwiommuMemory
import SwiommuPlatform

extension DMAMapping {
    /// Channels of `mask`, lowest first; nil (with a WARN) for an empty mask or a channel the device lacks.
    static func channels(_ dev: UnsafeMutablePointer<Device>, mask: UInt, _ function: StaticString) -> [Int]? {
        let count = DMALayer.channelCount(dev)
        guard mask != 0 else {
            Kernel.warn("\(devName(dev)): \(function): no channels in the mask")
            return nil
        }
        guard count >= UInt.bitWidth || mask >> UInt(count) == 0 else {
            Kernel.warn("\(devName(dev)): \(function): channel mask \(Kernel.hex(mask)) names channels the device does "
                        + "not have (it has \(count))")
            return nil
        }
        return (0..<min(count, UInt.bitWidth)).filter { mask & (1 << UInt($0)) != 0 }
    }

    /// The routes of `channels`, deduplicated: each with the channels it serves.
    static func routeGroups(_ dev: UnsafeMutablePointer<Device>, _ channels: [Int]) -> [(DMARoute, [Int])] {
        var groups: [(DMARoute, [Int])] = []
        for ch in channels {
            var r: DMARoute = DMALayer.route(dev, channel: ch) ?? .unavailable
            // Channel 0 follows the device's path, as the plain calls do.
            if ch == 0 {
                switch path(dev) {
                case .iommu(let d): r = .iommu(d)
                case .direct: r = .direct
                case .unavailable, .ops: r = .unavailable
                }
            }
            if let i = groups.firstIndex(where: { $0.0 == r }) { groups[i].1.append(ch) } else { groups.append((r, [ch])) }
        }
        return groups
    }

    /// dma_map_page_attrs_multi: map for every channel of `mask`; `addrs[ch]` gets channel ch's address.
    /// Returns the lowest channel's address; on any failure everything mapped is unmapped again and every
    /// requested address is DMA_MAPPING_ERROR.
    public static func mapPageMulti(_ layer: DMALayer, _ dev: UnsafeMutablePointer<Device>, page: UnsafeMutablePointer<PageFrame>,
                                    offset: Int, size: Int, direction dir: dma_data_direction, attributes: DMAAttributes,
                                    channels mask: UInt, addresses: UnsafeMutablePointer<dma_addr_t>) -> DMAAddress {
        guard let direction = checkDirection(dev, dir, "dma_map_page_attrs_multi"),
              checkMask(dev, "dma_map_page_attrs_multi"),
              let channels = channels(dev, mask: mask, "dma_map_page_attrs_multi") else { return .mappingError }
        let memory = layer.memory
        guard let phys = layer.physicalAddress(of: page, offset: offset, size: size) else {
            badBuffer(dev, page, offset, size, "dma_map_page_attrs_multi")
            for ch in channels { addresses[ch] = DMAAddress.mappingError.rawValue }
            return .mappingError
        }
        layer.attachSwiotlb(dev)
        var done: [(DMARoute, DMAAddress)] = []
        for (route, members) in routeGroups(dev, channels) {
            let addr: DMAAddress
            switch route {
            case .direct:
                addr = DMADirect.mapPage(dev, memory, phys: phys, size: size, direction: direction, attributes: attributes)
            case .iommu(let d):
                addr = IOMMUDMA.mapPage(dev, domain: d, phys: phys, size: size, direction: direction, attributes: attributes)
            case .unavailable:
                unavailable(dev, "dma_map_page_attrs_multi", channel: members[0])
                addr = .mappingError
            }
            if addr.isMappingError {
                for (r, a) in done { unmapRoute(layer, dev, r, a, size, direction, attributes.union(.skipCPUSync)) }
                for ch in channels { addresses[ch] = DMAAddress.mappingError.rawValue }
                DMAHooks.mapPage(dev, page: page, offset: offset, phys: phys, size: size, direction: direction,
                                 attributes: attributes, result: .mappingError)
                return .mappingError
            }
            done.append((route, addr))
            for ch in members { addresses[ch] = addr.rawValue }
        }
        let first = DMAAddress(addresses[channels[0]])
        // One mapping per route, as unmapPageMulti unmaps them; the driver checks the address returned.
        for (i, (route, addr)) in done.enumerated() {
            DMAHooks.mapPage(dev, page: page, offset: offset, phys: phys, size: size, direction: direction,
                             attributes: attributes, result: addr, route: route, primary: i == 0)
        }
        return first
    }

    static func unmapRoute(_ layer: DMALayer, _ dev: UnsafeMutablePointer<Device>, _ route: DMARoute, _ addr: DMAAddress,
                           _ size: Int, _ direction: DMADirection, _ attributes: DMAAttributes) {
        switch route {
        case .direct:
            DMADirect.unmapPage(dev, layer.memory, address: addr, size: size, direction: direction, attributes: attributes)
        case .iommu(let d):
            IOMMUDMA.unmapPage(dev, domain: d, address: addr, size: size, direction: direction, attributes: attributes)
        case .unavailable:
            break
        }
    }

    /// dma_unmap_page_attrs_multi: unmap each distinct route once, at its first channel's address.
    public static func unmapPageMulti(_ layer: DMALayer, _ dev: UnsafeMutablePointer<Device>,
                                      addresses: UnsafePointer<dma_addr_t>, size: Int, direction dir: dma_data_direction,
                                      attributes: DMAAttributes, channels mask: UInt) {
        guard let direction = checkDirection(dev, dir, "dma_unmap_page_attrs_multi"),
              let channels = channels(dev, mask: mask, "dma_unmap_page_attrs_multi") else { return }
        var first = true
        for (route, members) in routeGroups(dev, channels) {
            if case .unavailable = route {
                unavailable(dev, "dma_unmap_page_attrs_multi", channel: members[0])
                continue
            }
            let addr = DMAAddress(addresses[members[0]])
            DMAHooks.willTouch(dev, key: addr.rawValue)
            DMAHooks.willUnmapPage(dev, address: addr, size: size, direction: direction)
            unmapRoute(layer, dev, route, addr, size, direction, attributes)
            DMAHooks.unmapPage(dev, address: addr, size: size, direction: direction, attributes: attributes, primary: first)
            first = false
        }
    }

    // MARK: Managed allocations. Kernel: struct dma_devres, dmam_release, dmam_match.

    struct Devres {
        var dev: UnsafeMutablePointer<Device>
        var size: Int
        var vaddr: UnsafeMutableRawPointer
        var handle: UInt64
        var attributes: UInt
    }

    /// Kernel: dmam_release: the devres action at unbind.
    static let release: @convention(c) (UnsafeMutableRawPointer?) -> Void = { raw in
        guard let raw else { return }
        let r = raw.assumingMemoryBound(to: Devres.self)
        DMALayer.withCurrent { layer in
            layer.forgetDevres(raw)
            free(layer, r.pointee.dev, size: r.pointee.size, cpuAddress: r.pointee.vaddr, handle: DMAAddress(r.pointee.handle),
                 attributes: DMAAttributes(rawValue: r.pointee.attributes))
            layer.memory.kfree(raw)
        }
    }

    /// Kernel: dmam_alloc_attrs.
    public static func allocManaged(_ layer: DMALayer, _ dev: UnsafeMutablePointer<Device>, size: Int,
                                    handle: UnsafeMutablePointer<dma_addr_t>, gfp: gfp_t, attributes: DMAAttributes,
                                    site: AllocationSite?) -> UnsafeMutableRawPointer? {
        guard let raw = layer.memory.kmalloc(size: MemoryLayout<Devres>.stride, gfp: GFP(rawValue: gfp), site: site) else {
            return nil
        }
        guard let vaddr = alloc(layer, dev, size: size, handle: handle, gfp: gfp, attributes: attributes, site: site) else {
            layer.memory.kfree(raw)
            return nil
        }
        raw.assumingMemoryBound(to: Devres.self).initialize(
            to: Devres(dev: dev, size: size, vaddr: vaddr, handle: handle.pointee, attributes: attributes.rawValue))
        layer.rememberDevres(raw)
        layer.machine.drivers.devmAddAction(dev, release, raw)
        return vaddr
    }

    /// Kernel: dmam_free_coherent: WARN when no managed allocation matches, or its size or handle differ;
    /// the memory is freed either way.
    public static func freeManaged(_ layer: DMALayer, _ dev: UnsafeMutablePointer<Device>, size: Int,
                                   vaddr: UnsafeMutableRawPointer?, handle: DMAAddress) {
        if let raw = layer.findDevres(dev, vaddr) {
            let r = raw.assumingMemoryBound(to: Devres.self).pointee
            if r.size != size || r.handle != handle.rawValue {
                Kernel.warn("\(devName(dev)): dmam_free_coherent: allocated \(r.size) bytes at \(Kernel.hex(r.handle)), "
                            + "freed as \(size) bytes at \(handle)")
            }
            layer.forgetDevres(raw)
            _ = layer.machine.drivers.devmRemoveAction(dev, release, raw)
            layer.memory.kfree(raw)
        } else {
            Kernel.warn("\(devName(dev)): dmam_free_coherent: \(Kernel.hex(UInt(bitPattern: vaddr))) is no managed allocation")
        }
        free(layer, dev, size: size, cpuAddress: vaddr, handle: handle, attributes: [])
    }
}

extension DMALayer {
    func rememberDevres(_ r: UnsafeMutableRawPointer) { lock.withLock { devres.append(r) } }
    func forgetDevres(_ r: UnsafeMutableRawPointer) { lock.withLock { devres.removeAll { $0 == r } } }
    func findDevres(_ dev: UnsafeMutablePointer<Device>, _ vaddr: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
        lock.withLock {
            devres.first {
                let r = $0.assumingMemoryBound(to: DMAMapping.Devres.self).pointee
                return r.dev == dev && r.vaddr == vaddr
            }
        }
    }
}
