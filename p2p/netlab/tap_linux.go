package netlab

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// tapPort is a switch port on a TAP device: what the namespace's kernel
// sends out of the device is read here, and what is written here arrives
// in the namespace as received from the wire. Without TUNSETOFFLOAD the
// kernel hands over ordinary frames: checksums computed, no segments
// larger than the MTU.
type tapPort struct{ f *os.File }

// openTap makes a TAP device called name in the calling thread's network
// namespace. The device lives as long as the returned port is open.
func openTap(name string) (*tapPort, error) {
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("open /dev/net/tun: %w", err)
	}
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	ifr.SetUint16(unix.IFF_TAP | unix.IFF_NO_PI)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("make TAP device %s: %w", name, err)
	}
	// A non-blocking descriptor goes to the runtime's poller, so that
	// Close wakes a blocked ReadFrame.
	return &tapPort{f: os.NewFile(uintptr(fd), "tap "+name)}, nil
}

func (p *tapPort) ReadFrame(b []byte) (int, error) { return p.f.Read(b) }

func (p *tapPort) WriteFrame(b []byte) error {
	_, err := p.f.Write(b)
	return err
}

func (p *tapPort) Close() error { return p.f.Close() }
