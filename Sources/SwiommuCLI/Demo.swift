// `swiommu demo`: boot the built-in board and show what the library does at this stage.
import ArgumentParser
import CKernel
import Swiommu
import SwiommuBase
import SwiommuMemory
import SwiommuPlatform

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Boot the default board, show the machine, and exercise the kernel memory API.")

    @Option(name: .customLong("page-shift"), help: "CPU page shift: 12, 14 or 16.")
    var pageShift: Int = 12

    func run() throws {
        let ret = abiInitPageShift(nil, CUnsignedInt(pageShift))
        guard ret == 0, let machine = Machine.current else {
            throw ValidationError("swiommu_init failed: \(ret)")
        }
        print("== \(machine.boardName), \(machine.geometry.size >> 10) KiB pages")
        print("\nRAM")
        for b in machine.memory.physical.banks {
            let end = b.start + (b.size - 1)
            print("  \(pad(b.start.description, 14)) - \(pad(end.description, 14))  \(b.size >> 20) MiB"
                  + (end.rawValue < 1 << 32 ? "  (below 4 GiB: ZONE_DMA32)" : "  (above 4 GiB: ZONE_NORMAL)"))
        }
        print("\nDevices")
        for pdev in machine.drivers.devices {
            let dev = pdev.device
            let path = dev.pointee.of_node.map { DeviceTree.path(of: $0) } ?? "-"
            var regs = ""
            if let r = abiPlatformGetResource(pdev, CUnsignedInt(IORESOURCE_MEM), 0) {
                regs = "reg \(Kernel.hex(r.pointee.start))+\(Kernel.hex(r.pointee.end - r.pointee.start + 1))"
            }
            let irq = abiPlatformGetIrqOptional(pdev, 0)
            let compat = dev.pointee.of_node.flatMap { DeviceTree.strings($0, "compatible").first } ?? ""
            print("  \(pad(String(cString: dev_name(dev)), 22)) \(pad(path, 30)) \(pad(compat, 22)) \(regs)"
                  + (irq > 0 ? "  irq \(irq)" : ""))
        }

        print("\nKernel memory API")
        let gfpKernel = GFP.kernel.rawValue
        let object = abiKmalloc(200, gfpKernel)!
        let pa = abiVirtToPhys(object)
        print("  kmalloc(200, GFP_KERNEL)      = \(object)  phys \(Kernel.hex(pa))  ksize \(abiKsize(object))")
        let low = abiAllocPages(gfpKernel | GFP.dma32.rawValue, 2)!
        print("  alloc_pages(GFP_DMA32, 2)     = phys \(Kernel.hex(abiPageToPhys(low))) (16 KiB below 4 GiB)")
        let v = abiVmalloc(3 << 12)!
        let frames = (0..<3).map { Kernel.hex(abiPageToPhys(abiVmallocToPage(v + $0 << 12))) }
        print("  vmalloc(12 KiB)               = \(v)  pages at \(frames.joined(separator: ", "))")
        var stats = swiommu_mem_stats()
        _ = abiMemGetStats(&stats)
        print("  live: \(stats.kmalloc_objects) kmalloc object(s), \(stats.page_blocks) page block(s), "
              + "\(stats.vmalloc_areas) vmalloc area(s)")
        abiKfree(object)
        abiFreePages(low, 2)
        abiVfree(v)
        let leaks = abiMemCheckLeaks(true)
        print("  after kfree, __free_pages, vfree: \(leaks) live allocation(s): "
              + (leaks == 0 ? "no leaks" : "LEAKS (see above)"))
        abiExit()
        print("\nswiommu_exit: machine down, leak check clean.")
        if leaks != 0 { throw ExitCode.failure }
    }

    private func pad(_ s: String, _ n: Int) -> String {
        s.count >= n ? s : s + String(repeating: " ", count: n - s.count)
    }
}
