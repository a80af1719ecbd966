// The layout of every exported struct as Swift imported it; ctests/test_layout.c compares it with the C
// compiler's sizeof/offsetof.
import Glibc
import CKernel

/// A struct's size and the offsets of its (non-bitfield) members, as Swift sees them.
private struct StructLayout {
    let size: Int
    let members: [(String, Int)]

    init<T>(_ type: T.Type, _ members: [(String, PartialKeyPath<T>)]) {
        size = MemoryLayout<T>.size
        self.members = members.map { ($0.0, MemoryLayout<T>.offset(of: $0.1)!) }
    }
}

private let layouts: [String: StructLayout] = [
    "list_head": StructLayout(list_head.self, [("next", \.next), ("prev", \.prev)]),
    "swiommu_alloc_site": StructLayout(swiommu_alloc_site.self, [("file", \.file), ("func", \.func), ("line", \.line)]),
    "swiommu_page_meta": StructLayout(swiommu_page_meta.self, [
        ("node", \.node), ("site", \.site), ("slab", \.slab), ("memview", \.memview), ("order", \.order),
        ("state", \.state)]),
    "page": StructLayout(page.self, [
        ("flags", \.flags), ("lru", \.lru), ("mapping", \.mapping), ("index", \.index), ("private", \.private),
        ("_mapcount", \._mapcount), ("_refcount", \._refcount), ("swiommu", \.swiommu)]),
    "pgprot_t": StructLayout(pgprot_t.self, [("pgprot", \.pgprot)]),
    "kobject": StructLayout(kobject.self, [("name", \.name), ("parent", \.parent), ("refcount", \.refcount)]),
    "device_dma_parameters": StructLayout(device_dma_parameters.self, [
        ("max_segment_size", \.max_segment_size), ("min_align_mask", \.min_align_mask),
        ("segment_boundary_mask", \.segment_boundary_mask)]),
    "bus_dma_region": StructLayout(bus_dma_region.self, [
        ("cpu_start", \.cpu_start), ("dma_start", \.dma_start), ("size", \.size)]),
    "bus_type": StructLayout(bus_type.self, [
        ("name", \.name), ("match", \.match), ("probe", \.probe), ("remove", \.remove),
        ("dma_configure", \.dma_configure), ("dma_cleanup", \.dma_cleanup)]),
    "device_driver": StructLayout(device_driver.self, [
        ("name", \.name), ("bus", \.bus), ("owner", \.owner), ("mod_name", \.mod_name),
        ("suppress_bind_attrs", \.suppress_bind_attrs), ("probe_type", \.probe_type),
        ("of_match_table", \.of_match_table), ("acpi_match_table", \.acpi_match_table), ("probe", \.probe),
        ("sync_state", \.sync_state), ("remove", \.remove), ("shutdown", \.shutdown), ("pm", \.pm)]),
    "device": StructLayout(device.self, [
        ("kobj", \.kobj), ("parent", \.parent), ("init_name", \.init_name), ("type", \.type), ("bus", \.bus),
        ("driver", \.driver), ("platform_data", \.platform_data), ("driver_data", \.driver_data),
        ("dma_ops", \.dma_ops), ("dma_mask", \.dma_mask), ("coherent_dma_mask", \.coherent_dma_mask),
        ("bus_dma_limit", \.bus_dma_limit), ("dma_range_map", \.dma_range_map), ("dma_parms", \.dma_parms),
        ("dma_pools", \.dma_pools), ("of_node", \.of_node), ("fwnode", \.fwnode), ("numa_node", \.numa_node),
        ("id", \.id), ("iommu_group", \.iommu_group), ("iommu", \.iommu), ("release", \.release),
        ("swiommu", \.swiommu)]),
    "resource": StructLayout(resource.self, [
        ("start", \.start), ("end", \.end), ("name", \.name), ("flags", \.flags), ("desc", \.desc),
        ("parent", \.parent), ("sibling", \.sibling), ("child", \.child)]),
    "of_device_id": StructLayout(of_device_id.self, [
        ("name", \.name), ("type", \.type), ("compatible", \.compatible), ("data", \.data)]),
    "platform_device_id": StructLayout(platform_device_id.self, [("name", \.name), ("driver_data", \.driver_data)]),
    "platform_device": StructLayout(platform_device.self, [
        ("name", \.name), ("id", \.id), ("id_auto", \.id_auto), ("dev", \.dev),
        ("platform_dma_mask", \.platform_dma_mask), ("dma_parms", \.dma_parms),
        ("num_resources", \.num_resources), ("resource", \.resource), ("id_entry", \.id_entry),
        ("driver_override", \.driver_override)]),
    "platform_driver": StructLayout(platform_driver.self, [
        ("probe", \.probe), ("remove", \.remove), ("shutdown", \.shutdown), ("suspend", \.suspend),
        ("resume", \.resume), ("driver", \.driver), ("id_table", \.id_table),
        ("prevent_deferred_probe", \.prevent_deferred_probe), ("driver_managed_dma", \.driver_managed_dma)]),
    "fwnode_handle": StructLayout(fwnode_handle.self, [("secondary", \.secondary), ("ops", \.ops), ("dev", \.dev)]),
    "property": StructLayout(property.self, [("name", \.name), ("length", \.length), ("value", \.value), ("next", \.next)]),
    "device_node": StructLayout(device_node.self, [
        ("name", \.name), ("phandle", \.phandle), ("full_name", \.full_name), ("fwnode", \.fwnode),
        ("properties", \.properties), ("deadprops", \.deadprops), ("parent", \.parent), ("child", \.child),
        ("sibling", \.sibling), ("_flags", \._flags), ("data", \.data)]),
    "module": StructLayout(module.self, [("name", \.name)]),
    "swiommu_mem_stats": StructLayout(swiommu_mem_stats.self, [
        ("ram_bytes", \.ram_bytes), ("free_bytes", \.free_bytes), ("page_blocks", \.page_blocks),
        ("page_bytes", \.page_bytes), ("kmalloc_objects", \.kmalloc_objects), ("kmalloc_bytes", \.kmalloc_bytes),
        ("vmalloc_areas", \.vmalloc_areas), ("vmalloc_bytes", \.vmalloc_bytes), ("vmap_areas", \.vmap_areas)]),
    "swiommu_dma_debug_record": StructLayout(swiommu_dma_debug_record.self, [
        ("dev", \.dev), ("device", \.device), ("driver", \.driver), ("kind", \.kind), ("address", \.address),
        ("size", \.size), ("message", \.message)]),
]

@c(swiommu_layout_sizeof)
public func abiLayoutSizeof(_ type: UnsafePointer<CChar>?) -> CLong {
    guard let type, let l = layouts[String(cString: type)] else { return -CLong(ENOENT) }
    return CLong(l.size)
}

@c(swiommu_layout_offsetof)
public func abiLayoutOffsetof(_ type: UnsafePointer<CChar>?, _ member: UnsafePointer<CChar>?) -> CLong {
    guard let type, let member, let l = layouts[String(cString: type)] else { return -CLong(ENOENT) }
    let name = String(cString: member)
    guard let m = l.members.first(where: { $0.0 == name }) else { return -CLong(ENOENT) }
    return CLong(m.1)
}
