package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/coffer-dav/coffer/dav"
	"github.com/coffer-dav/coffer/encryption"
	"github.com/coffer-dav/coffer/encryption/webpush"
	"github.com/coffer-dav/coffer/push"
	"github.com/coffer-dav/coffer/storage"
)

// pushFlags configure WebDAV-Push.
type pushFlags struct {
	mode          *string
	allowLoopback *bool
}

// vapidFile is the VAPID key's name in the data folder, next to server.key.
const vapidFile = "vapid.key"

// vapidSettingKey is the setting that holds the public VAPID key the
// database's subscriptions were made with.
const vapidSettingKey = "push_vapid_public_key"

// addPushFlags registers the push flags on fs.
func addPushFlags(fs *flag.FlagSet) *pushFlags {
	return &pushFlags{
		mode: fs.String("push", "auto", "WebDAV-Push (DAVx5 hears of changes at once): on, off, or auto (on when --public-url is https://)"),
		allowLoopback: fs.Bool("push-allow-loopback", false,
			"for tests only: let push resources be http:// or https:// on loopback addresses (and nothing else)"),
	}
}

// enabled tells whether push is on, given the public URL.
func (f *pushFlags) enabled(public string) (bool, error) {
	switch *f.mode {
	case "on":
		return true, nil
	case "off":
		return false, nil
	case "auto", "":
		return strings.HasPrefix(public, "https://"), nil
	}
	return false, fmt.Errorf("--push %q: want on, off or auto", *f.mode)
}

// pushContact is the VAPID contact push services see (RFC 8292 section
// 2.1): the public URL when it is https; without one, the postmaster of
// the host that clients reach.
func pushContact(public, clients string) string {
	if strings.HasPrefix(public, "https://") {
		return public
	}
	host := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(clients, "http://"), "https://"), "/")
	if i := strings.LastIndex(host, ":"); i > 0 && !strings.HasSuffix(host, "]") {
		host = host[:i]
	}
	return "mailto:postmaster@" + strings.Trim(host, "[]")
}

// loadVAPIDKey reads the data folder's VAPID key, creating it on the first
// start with push on, and checks it against the public key the database
// keeps: subscriptions are bound, at their push services, to the key that
// signs for them, so an instance with another key would have every push
// refused.
func loadVAPIDKey(ctx context.Context, db storage.Settings, dir string) (*webpush.VAPIDKey, error) {
	path := filepath.Join(dir, vapidFile)
	stored, haveStored, err := db.Setting(ctx, vapidSettingKey)
	if err != nil {
		return nil, err
	}
	k, err := webpush.LoadVAPIDKey(path)
	switch {
	case err == nil:
		if err := checkPrivate(path); err != nil {
			return nil, err
		}
	case !errors.Is(err, os.ErrNotExist):
		return nil, err
	case haveStored:
		return nil, fmt.Errorf("the database's push subscriptions were made with a VAPID key that %s does not hold: copy vapid.key from the first instance (or the backup of its data folder) into %s", absPath(path), absPath(dir))
	default:
		if k, err = webpush.GenerateVAPIDKey(); err != nil {
			return nil, err
		}
		pem, err := k.MarshalPEM()
		if err != nil {
			return nil, err
		}
		if err := writePrivate(dir, path, pem, "VAPID key"); err != nil {
			return nil, err
		}
	}
	pub := k.PublicKeyString()
	switch {
	case !haveStored:
		return k, db.PutSetting(ctx, vapidSettingKey, pub)
	case stored != pub:
		return nil, fmt.Errorf("the VAPID key %s is not this database's: its push subscriptions were made with another one; use the vapid.key of the first instance (every instance of one service shares it, like server.key)", absPath(path))
	}
	return k, nil
}

// pushSetup is push as serve runs it: the DAV options and, when on, the
// Notifier and its sender.
type pushSetup struct {
	opts     dav.PushOptions
	notifier *dav.Notifier
	sender   *push.Sender
}

// setupPush prepares WebDAV-Push when the flags turn it on: the VAPID key,
// the sender, and the Notifier fed by the database's change hook.
func (a *app) setupPush(ctx context.Context, f *pushFlags, dir, public, clients string, log *slog.Logger) (*pushSetup, error) {
	on, err := f.enabled(public)
	if err != nil || !on {
		return &pushSetup{}, err
	}
	key, err := loadVAPIDKey(ctx, a.db, dir)
	if err != nil {
		return nil, err
	}
	sender, err := push.New(push.Options{Key: key, Contact: pushContact(public, clients), AllowLoopback: *f.allowLoopback})
	if err != nil {
		return nil, err
	}
	retryKey, err := encryption.DeriveKeyring(a.secret, encryption.PushOutbox)
	if err != nil {
		return nil, err
	}
	n, err := dav.NewNotifier(dav.NotifyOptions{Sender: sender, Expiry: a.db, Outbox: a.db, RetryKey: retryKey, Logger: log})
	if err != nil {
		return nil, err
	}
	a.db.OnChange(n.Hook())
	return &pushSetup{
		opts:     dav.PushOptions{Enabled: true, VAPIDPublicKey: key.PublicKeyString(), AllowLoopback: *f.allowLoopback},
		notifier: n, sender: sender,
	}, nil
}

// run runs the Notifier's workers and the outbox's push retries until ctx
// ends; with push off it returns at once.
func (p *pushSetup) run(ctx context.Context) {
	if p.notifier == nil {
		return
	}
	defer p.sender.Close()
	p.notifier.Run(ctx)
}

// gatherChanges has the database's change hook keep what the writes
// through this process change, and returns what it kept so far.
func (a *app) gatherChanges() func() []storage.Changed {
	var mu sync.Mutex
	var all []storage.Changed
	a.db.OnChange(func(_ context.Context, _ storage.Space, c []storage.Changed) {
		mu.Lock()
		defer mu.Unlock()
		all = append(all, c...)
	})
	return func() []storage.Changed {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(all)
	}
}

// queuePushes puts the push messages for changes made through space into
// the outbox, for a serving instance to send: a command beside the server
// has no sender of its own.
func (a *app) queuePushes(ctx context.Context, space storage.Space, changes []storage.Changed) (int, error) {
	if len(changes) == 0 {
		return 0, nil
	}
	key, err := encryption.DeriveKeyring(a.secret, encryption.PushOutbox)
	if err != nil {
		return 0, err
	}
	return dav.QueuePushes(ctx, dav.NotifyOptions{Outbox: a.db, RetryKey: key}, space, changes)
}
