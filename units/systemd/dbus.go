package systemd

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"

	sddbus "github.com/coreos/go-systemd/v22/dbus"
	"github.com/godbus/dbus/v5"
)

// DBus is a Manager over go-systemd's D-Bus connection.
type DBus struct {
	conn *sddbus.Conn
}

// PrivateSocket is the system manager's private D-Bus socket (root only, no dbus-daemon
// needed). A user manager's is $XDG_RUNTIME_DIR/systemd/private.
const PrivateSocket = "/run/systemd/private"

// ConnectSystem connects to the system manager: its private socket, or failing that the
// system bus.
func ConnectSystem(ctx context.Context) (*DBus, error) {
	if c, err := sddbus.NewSystemdConnectionContext(ctx); err == nil {
		return &DBus{conn: c}, nil
	}
	c, err := sddbus.NewSystemConnectionContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("connecting to systemd over D-Bus (%s or the system bus): %w; is systemd running as PID 1?", PrivateSocket, err)
	}
	return &DBus{conn: c}, nil
}

// ConnectPrivate connects to a manager's private socket at path, peer to peer (no bus, no
// Hello), authenticating as the current uid.
func ConnectPrivate(ctx context.Context, socket string) (*DBus, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c, err := sddbus.NewConnection(func() (*dbus.Conn, error) {
		// no dbus.WithContext: it would close the connection when ctx ends.
		conn, err := dbus.Dial("unix:path=" + socket)
		if err != nil {
			return nil, err
		}
		if err := conn.Auth([]dbus.Auth{dbus.AuthExternal(strconv.Itoa(os.Getuid()))}); err != nil {
			conn.Close()
			return nil, err
		}
		return conn, nil
	})
	if err != nil {
		return nil, fmt.Errorf("connecting to systemd at %s: %w", socket, err)
	}
	return &DBus{conn: c}, nil
}

// Close closes the connection.
func (d *DBus) Close() { d.conn.Close() }

// Reload is daemon-reload.
func (d *DBus) Reload(ctx context.Context) error { return d.conn.ReloadContext(ctx) }

// Enable enables the unit files by name.
func (d *DBus) Enable(ctx context.Context, units []string) (bool, error) {
	_, changes, err := d.conn.EnableUnitFilesContext(ctx, units, false, false)
	if err != nil {
		return false, err
	}
	return len(changes) > 0, nil
}

// Start starts unit and waits for its job.
func (d *DBus) Start(ctx context.Context, unit string) error {
	return d.job(ctx, unit, d.conn.StartUnitContext)
}

// Restart restarts unit and waits for its job.
func (d *DBus) Restart(ctx context.Context, unit string) error {
	return d.job(ctx, unit, d.conn.RestartUnitContext)
}

func (d *DBus) job(ctx context.Context, unit string, f func(context.Context, string, string, chan<- string) (int, error)) error {
	ch := make(chan string, 1)
	if _, err := f(ctx, unit, "replace", ch); err != nil {
		return err
	}
	select {
	case res := <-ch:
		if res != "done" {
			return fmt.Errorf("job for %s ended %q", unit, res)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for the job of %s: %w", unit, ctx.Err())
	}
}

// State reads the unit's state.
func (d *DBus) State(ctx context.Context, unit string) (UnitState, error) {
	p, err := d.conn.GetUnitPropertiesContext(ctx, unit)
	if err != nil {
		return UnitState{}, err
	}
	st := UnitState{
		Name:          unit,
		LoadState:     str(p["LoadState"]),
		ActiveState:   str(p["ActiveState"]),
		SubState:      str(p["SubState"]),
		UnitFileState: str(p["UnitFileState"]),
	}
	if id, ok := p["InvocationID"].([]byte); ok {
		st.InvocationID = hex.EncodeToString(id)
	}
	if st.LoadState == "loaded" {
		if sp, err := d.conn.GetUnitTypePropertiesContext(ctx, unit, "Service"); err == nil {
			st.Result = str(sp["Result"])
			if pid, ok := sp["MainPID"].(uint32); ok {
				st.MainPID = pid
			}
		}
	}
	return st, nil
}

// UnitFiles returns the unit file systemd loaded for unit and its drop-ins, in the order
// systemd applies them.
func (d *DBus) UnitFiles(ctx context.Context, unit string) (fragment string, dropins []string, err error) {
	p, err := d.conn.GetUnitPropertiesContext(ctx, unit)
	if err != nil {
		return "", nil, err
	}
	fragment = str(p["FragmentPath"])
	if fragment == "" {
		return "", nil, fmt.Errorf("systemd has no unit file for %s (LoadState %s)", unit, str(p["LoadState"]))
	}
	dropins, _ = p["DropInPaths"].([]string)
	return fragment, dropins, nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// SystemState is the manager's overall state: initializing, starting, running, degraded, ...
func (d *DBus) SystemState(ctx context.Context) (string, error) {
	p, err := d.conn.SystemStateContext(ctx)
	if err != nil {
		return "", err
	}
	s, _ := p.Value.Value().(string)
	return s, nil
}
