// The live device tree, compatible matching, address translation and the machine's device population.
import Testing
import CKernel
@testable import SwiommuBase
@testable import SwiommuMemory
@testable import SwiommuPlatform

@Suite struct DeviceTreeTests {
    @Test func nodesAndPropertiesKeepSourceOrder() throws {
        let tree = DeviceTree()
        let soc = tree.addNode("soc")
        let a = tree.addNode("isp@fe0a0000", parent: soc)
        let b = tree.addNode("gpu@fe300000", parent: soc)
        tree.setStrings(a, "compatible", ["vendor,isp-v2", "vendor,isp"])
        tree.setCells(a, "reg", [0, 0xfe0a_0000, 0, 0x1000])
        tree.setFlag(a, "dma-coherent")
        #expect(soc.pointee.child == a)
        #expect(a.pointee.sibling == b)
        #expect(String(cString: a.pointee.name) == "isp")
        #expect(String(cString: a.pointee.full_name) == "isp@fe0a0000")
        #expect(DeviceTree.path(of: a) == "/soc/isp@fe0a0000")
        #expect(tree.node(atPath: "/soc/gpu@fe300000") == b)
        #expect(tree.node(atPath: "/soc/nothing") == nil)
        #expect(DeviceTree.strings(a, "compatible") == ["vendor,isp-v2", "vendor,isp"])
        #expect(DeviceTree.cells(a, "reg") == [0, 0xfe0a_0000, 0, 0x1000])
        #expect(DeviceTree.property(a, "dma-coherent")?.count == 0)
        #expect(DeviceTree.property(a, "dma-noncoherent") == nil)
        // Big-endian bytes, as in a blob.
        #expect(Array(DeviceTree.property(a, "reg")!.prefix(8)) == [0, 0, 0, 0, 0xfe, 0x0a, 0, 0])
        tree.setCells(a, "reg", [1])
        #expect(DeviceTree.cells(a, "reg") == [1])
    }

    @Test func compatibleScoresFavourEarlierEntries() {
        let tree = DeviceTree()
        let n = tree.addNode("x@0")
        tree.setStrings(n, "compatible", ["vendor,chip-v2", "vendor,chip"])
        let specific = OFMatch.score(n, compatible: "vendor,chip-v2", type: "", name: "")
        let generic = OFMatch.score(n, compatible: "VENDOR,CHIP", type: "", name: "")
        #expect(specific > generic)
        #expect(generic > 0)
        #expect(OFMatch.score(n, compatible: "other", type: "", name: "") == 0)
        #expect(OFMatch.score(n, compatible: "vendor,chip", type: "", name: "x") == generic + 1)
        #expect(OFMatch.score(n, compatible: "vendor,chip", type: "", name: "y") == 0)
    }

    @Test func bestMatchPicksTheMostSpecificEntry() {
        let tree = DeviceTree()
        let n = tree.addNode("x@0")
        tree.setStrings(n, "compatible", ["vendor,chip-v2", "vendor,chip"])
        var table = [of_device_id(), of_device_id(), of_device_id()]
        withUnsafeMutableBytes(of: &table[0].compatible) { _ = "vendor,chip".utf8CString.withUnsafeBytes($0.copyMemory) }
        withUnsafeMutableBytes(of: &table[1].compatible) { _ = "vendor,chip-v2".utf8CString.withUnsafeBytes($0.copyMemory) }
        table.withUnsafeBufferPointer { t in
            #expect(OFMatch.bestMatch(t.baseAddress!, n) == t.baseAddress! + 1)
        }
    }

    @Test func availabilityFollowsStatus() {
        let tree = DeviceTree()
        let n = tree.addNode("x")
        #expect(DeviceTree.isAvailable(n))
        tree.setStrings(n, "status", ["disabled"])
        #expect(!DeviceTree.isAvailable(n))
        tree.setStrings(n, "status", ["okay"])
        #expect(DeviceTree.isAvailable(n))
    }

    @Test func coherenceWalksUpAndStopsAtNoncoherent() {
        let tree = DeviceTree()
        let bus = tree.addNode("bus")
        tree.setFlag(bus, "dma-coherent")
        let a = tree.addNode("a", parent: bus)
        let b = tree.addNode("b", parent: bus)
        tree.setFlag(b, "dma-noncoherent")
        #expect(Machine.isDMACoherent(a))
        #expect(!Machine.isDMACoherent(b))
        #expect(!Machine.isDMACoherent(tree.root))
    }
}

@Suite(.serialized) struct MachineTests {
    @Test func bootPopulatesTheBuiltinBoard() throws {
        let m = try Machine.boot(board: Board.defaultBoard(), geometry: .k4)
        defer { m.shutdown() }
        let isp = try #require(m.drivers.findDevice("/soc/isp@fe0a0000"))
        #expect(String(cString: dev_name(isp)) == "fe0a0000.isp")
        #expect(m.drivers.findDevice("isp") == isp)
        #expect(m.drivers.findDevice("isp@fe0a0000") == isp)
        #expect(m.drivers.findDevice("fe0a0000.isp") == isp)
        #expect(m.drivers.findDevice("nothing") == nil)
        // Devices on a simple-bus have it as their parent; DT devices get 32-bit masks.
        let soc = try #require(m.drivers.findDevice("/soc"))
        #expect(isp.pointee.parent == soc)
        #expect(isp.pointee.coherent_dma_mask == 0xffff_ffff)
        #expect(isp.pointee.dma_mask?.pointee == 0xffff_ffff)
        let pdev = isp.platformDevice
        #expect(pdev.pointee.num_resources == 1)         // reg only: interrupts come from of_irq_get
        #expect(pdev.pointee.resource[0].start == 0xfe0a_0000)
        #expect(pdev.pointee.resource[0].end == 0xfe0a_ffff)
        #expect(m.drivers.interrupt(pdev, index: 0) == 72)   // GIC SPI 40
        #expect(m.drivers.interrupt(pdev, index: 1) == -ENXIO)
        // Memory and chosen nodes make no devices.
        #expect(m.drivers.findDevice("memory") == nil)
    }

    @Test func rangesTranslateChildAddresses() throws {
        let m = try Machine.boot(board: Board.defaultBoard(), geometry: .k4)
        defer { m.shutdown() }
        let bus = m.tree.addNode("bus@10000000", parent: m.tree.root)
        m.tree.setCells(bus, "#address-cells", [1])
        m.tree.setCells(bus, "#size-cells", [1])
        m.tree.setCells(bus, "ranges", [0x0, 0x0, 0x1000_0000, 0x100_0000])   // child 0 -> parent 0x10000000
        let dev = m.tree.addNode("dev@2000", parent: bus)
        m.tree.setCells(dev, "reg", [0x2000, 0x100])
        let windows = m.registerWindows(dev)
        #expect(windows.count == 1)
        #expect(windows.first?.start == 0x1000_2000)
        #expect(windows.first?.size == 0x100)
        let outside = m.tree.addNode("dev@2000000", parent: bus)
        m.tree.setCells(outside, "reg", [0x200_0000, 0x100])
        #expect(m.registerWindows(outside).isEmpty)
    }

    @Test func secondBootIsRefusedAndExitAllowsAnother() throws {
        let m = try Machine.boot(board: Board.defaultBoard(), geometry: .k4)
        #expect(throws: Errno.busy) { try Machine.boot(board: Board.defaultBoard(), geometry: .k4) }
        #expect(m.shutdown() == 0)
        #expect(Machine.current == nil)
        let again = try Machine.boot(board: Board.defaultBoard(), geometry: PageGeometry(shift: 16)!)
        #expect(again.geometry.size == 65536)
        again.shutdown()
    }

    @Test func missingBoardFilesAreNamed() {
        #expect { try Board.load(path: "/nonexistent/board.dtb") } throws: { error in
            (error as? BoardError)?.description == "/nonexistent/board.dtb: cannot open: No such file or directory"
        }
        #expect(Machine.current == nil)
    }

    @Test func shutdownReportsLeaks() throws {
        let m = try Machine.boot(board: Board.defaultBoard(), geometry: .k4)
        _ = m.memory.kmalloc(size: 10, gfp: .kernel, site: nil)
        swiommu_log_reset()
        #expect(m.shutdown() == 1)
        #expect(swiommu_log_contains("swiommu: leak: kmalloc (kmalloc-16) 10 bytes"))
    }
}
