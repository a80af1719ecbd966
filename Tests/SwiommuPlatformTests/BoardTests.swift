// Loading boards: the default board's scenarios, channels, iommu-map, reserved regions, /chosen, and the
// errors that name file, node and property.
import Testing
import Glibc
import CKernel
@testable import SwiommuBase
@testable import SwiommuMemory
@testable import SwiommuPlatform

/// Write a .dts to a temporary file and load it.
func loadDTS(_ source: String, name: String = "board") throws(BoardError) -> Board {
    let path = "/tmp/swiommu-test-\(getpid())-\(name).dts"
    let f = fopen(path, "w")!
    fputs(source, f)
    fclose(f)
    defer { unlink(path) }
    return try Board.load(path: path)
}

/// A minimal valid board around `body` (placed in the root node).
func board(_ body: String, chosen: String = "") -> String {
    """
    /dts-v1/;
    / {
        #address-cells = <2>; #size-cells = <2>;
        chosen { \(chosen) };
        memory@80000000 { device_type = "memory"; reg = <0x0 0x80000000 0x0 0x10000000>; };
        \(body)
    };
    """
}

@Suite struct DefaultBoardTests {
    @Test func defaultBoardCarriesTheScenarios() throws {
        let b = try Board.defaultBoard()
        #expect(b.model == "swiommu default board")
        #expect(b.ram == RAMBankLayout.defaultLayout)
        #expect(b.options == { var o = BoardOptions(); o.bootargs = "iommu.strict=1 iommu.passthrough=0"; return o }())
        let dmac = try #require(b.tree.node(atPath: "/soc/dma-controller@fe100000"))
        let channels = try #require(try OFIOMMU.channels(of: dmac, in: b.tree, file: b.source))
        #expect(channels.count == 8)
        #expect(channels[0...3].allSatisfy { DeviceTree.path(of: $0.iommu!) == "/soc/iommu@fd000000" })
        #expect(channels.map(\.ids) == [[0x100], [0x101], [0x102], [0x103], [0x200], [0x201], [], []])
        #expect(channels[6].iommu == nil && channels[7].iommu == nil)
        let codec = try #require(b.tree.node(atPath: "/soc/codec-bus/codec@fe400000"))
        #expect(try OFIOMMU.channels(of: codec, in: b.tree, file: b.source)?.count == 2)
    }

    @Test func iommuMapTranslatesRequesterIDs() throws {
        let b = try Board.defaultBoard()
        let bridge = try #require(b.tree.node(atPath: "/pcie@40000000"))
        let nvme = try #require(OFIOMMU.mapRequesterID(0x08, bridge: bridge, in: b.tree))
        #expect(DeviceTree.path(of: nvme.iommu!) == "/soc/iommu@fd800000")
        #expect(nvme.ids == [0x1008])
    }
}

@Suite(.serialized) struct BoardBootTests {
    @Test func masterBindingAppliesDMAConfiguration() throws {
        let m = try Machine.boot(board: Board.defaultBoard(), geometry: .k4)
        defer { m.shutdown() }
        let codec = try #require(m.drivers.findDevice("/soc/codec-bus/codec@fe400000"))
        #expect(m.configureDMA(codec) == 0)
        #expect(codec.pointee.bus_dma_limit == 0x0fff_ffff)
        #expect(codec.pointee.coherent_dma_mask == 0x0fff_ffff)
        #expect(!codec.pointee.dma_coherent)
        let map = try #require(codec.pointee.dma_range_map)
        #expect(map[0].cpu_start == 0x8000_0000 && map[0].dma_start == 0 && map[0].size == 0x1000_0000)
        #expect(map[1].size == 0)
        let state = DeviceState.of(codec)
        #expect(state.iommuLink == .noDriver)   // boot is over and no IOMMU driver exists
        #expect(state.reservedRegions == [ReservedRegion(start: 0, length: 0x10_0000, prot: 3, type: .reserved,
                                                         node: "/reserved-memory/codec-firmware-window")])
        let display = try #require(m.drivers.findDevice("display"))
        #expect(m.configureDMA(display) == 0)
        #expect(display.pointee.dma_coherent)
        #expect(DeviceState.of(display).reservedRegions.first?.type == .direct)
        let nvme = try #require(m.drivers.findDevice("0000:00:01.0"))
        #expect(DeviceState.of(nvme).requesterID == 8)
        #expect(String(cString: nvme.pointee.bus!.pointee.name) == "pci")
    }

    @Test func pageShiftAssertionRefusesOtherCPUs() throws {
        let b = try loadDTS(board("", chosen: "swiommu,page-shift = <14>;"), name: "pageshift")
        #expect(b.options.pageShift == 14)
        #expect(throws: Errno.invalid) { try Machine.boot(board: b, geometry: .k4) }
        #expect(Machine.current == nil)
        let m = try Machine.boot(board: b, geometry: PageGeometry(shift: 14)!)
        m.shutdown()
    }

    @Test func bootargsAndChosenOptions() throws {
        let b = try loadDTS(board("", chosen: "bootargs = \"console=ttyS0 iommu.strict=0 iommu.passthrough=1 swiotlb=16384\"; swiommu,iommu-policy = \"global\";"),
                            name: "chosen")
        #expect(!b.options.strict)
        #expect(b.options.passthrough)
        #expect(b.options.swiotlbBytes == 32 << 20)
        #expect(b.options.policy == .global)
    }
}

@Suite struct BoardErrorTests {
    @Test func badMagicAndTruncationAreNamed() {
        var junk = [UInt8](repeating: 0x41, count: 64)
        #expect { try junk.withUnsafeBytes { b throws(BoardError) in try FlattenedTree.parse(b, file: "x.dtb") } } throws: {
            ($0 as? BoardError)?.description.hasPrefix("x.dtb: not a flattened device tree (bad magic 0x41414141") == true
        }
        let blob = DefaultBoardBlob.bytes
        junk = Array(blob.prefix(blob.count / 2))
        #expect { try junk.withUnsafeBytes { b throws(BoardError) in try FlattenedTree.parse(b, file: "half.dtb") } } throws: {
            ($0 as? BoardError)?.description.contains("half.dtb: truncated: the header says \(blob.count) bytes") == true
        }
    }

    @Test func danglingPhandleNamesNodeAndProperty() {
        #expect { try loadDTS(board("dev@1000 { compatible = \"x\"; reg = <0 0x1000 0 0x100>; iommus = <0x99 1>; };"), name: "dangling") } throws: {
            ($0 as? BoardError)?.description.hasSuffix("/dev@1000: iommus: entry 0: phandle 0x99 does not exist") == true
        }
    }

    @Test func shortIOMMUSpecifierIsRefused() {
        let body = """
            mmu: iommu@2000 { compatible = "arm,smmu-v3"; reg = <0 0x2000 0 0x100>; #iommu-cells = <2>; };
            dev@1000 { compatible = "x"; reg = <0 0x1000 0 0x100>; iommus = <&mmu 1 2>, <&mmu 3>; };
            """
        #expect { try loadDTS(board(body), name: "short") } throws: {
            ($0 as? BoardError)?.description.hasSuffix(
                "/dev@1000: iommus: entry 1: /iommu@2000 has #iommu-cells = <2>, but only 1 cell(s) follow its phandle") == true
        }
    }

    @Test func boardsWithoutRAMOrWithBadOptionsAreRefused() {
        #expect(throws: BoardError.self) { try loadDTS("/dts-v1/;\n/ { #address-cells = <2>; #size-cells = <2>; };", name: "noram") }
        #expect { try loadDTS(board("", chosen: "swiommu,iommu-policy = \"sometimes\";"), name: "policy") } throws: {
            ($0 as? BoardError)?.description.hasSuffix("/chosen: swiommu,iommu-policy: 'sometimes' is not per-group, per-instance or global") == true
        }
    }

    @Test func dtcErrorsAreReported() {
        #expect { try loadDTS("/dts-v1/;\n/ { broken = <1 ; };", name: "syntax") } throws: {
            ($0 as? BoardError)?.description.contains("dtc failed") == true
        }
    }
}
