// Package netlab puts CityChain nodes on separate hosts inside one
// machine, for tests. Each host is a Linux network namespace with one
// Ethernet interface (a TAP device); the other side of every TAP device is
// held by the test process, which runs a userspace Ethernet switch between
// them. Real kernels run TCP, QUIC, ARP and multicast DNS between the
// hosts; the switch adds what a classroom Wi-Fi or a WAN adds: delay,
// jitter and loss per link, a partition into groups, and an access point
// that drops multicast.
//
// Why userspace: the kernel of our machines has no netem qdisc, so the
// usual `tc qdisc add ... netem delay 20ms loss 1%` is not available.
// Frames that pass through this process can be delayed and dropped at
// will, with the random draws taken from a seeded generator.
//
// Why TAP devices and not veth pairs: a packet socket on a veth end sees
// frames as the kernel queued them, with checksums left to offload and
// segments of up to 64 KiB; forwarding those needs ethtool, which our
// machines do not have. A TAP device offers no offloads unless its reader
// asks for them, so every frame read from it is an ordinary Ethernet frame
// of at most MTU size with its checksums filled in. The TAP devices are
// made inside the namespaces, so nothing of the lab ever appears among
// the host's own interfaces, routes or firewall rules.
//
// The package has two halves:
//
//   - Switch forwards frames between Ports. It needs no privileges, and its
//     tests drive it through in-memory ports.
//   - Lab (Linux only, root or CAP_NET_ADMIN and CAP_SYS_ADMIN, and the `ip`
//     binary) makes the namespaces and their TAP devices, attaches them to
//     a Switch, runs commands inside a namespace, and dials into one. Check
//     tells a test whether a Lab can be made, and why not.
//
// Invariants:
//
//   - Frames between two ports leave in the order they arrived (jitter
//     never reorders one link), and each is delivered at most once.
//   - A frame is never delivered between ports in different groups of a
//     partition, nor, while multicast is blocked, to a multicast address
//     other than broadcast (ARP keeps working).
//   - Every wait is bounded: each output port queues at most
//     SwitchConfig.QueueLen frames and drops the rest, like a real switch.
//   - Every namespace a Lab made, and every process still running in it,
//     is gone after Lab.Close. Names carry a random lab id, so parallel
//     runs never collide.
//
// Delay and loss are drawn per frame from one seeded generator. The link
// delays a test draws at set-up repeat for a seed; which frame meets which
// draw depends on goroutine timing, so single losses do not repeat.
package netlab
