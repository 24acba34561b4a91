package config

import (
	"fmt"
	"sort"
	"strings"
)

// Location is where an account's entries live on a built-in remote backend.
type Location struct {
	// Scope names the server as the account's settings give it (hashicorp: address and
	// namespace; awssm: region, profile and endpoint). Settings left to the environment
	// are "": two accounts whose scopes differ are on different servers.
	Scope string
	// Folder is the entries' common path without surrounding slashes: hashicorp
	// MOUNT/PREFIX/ACCOUNT or MOUNT/PATH, awssm PREFIX/ACCOUNT or PATH.
	Folder string
	// Entry is the place of an entry NAME, for people: "secret/data/prod/payments/NAME".
	Entry string
}

// LocationOf returns where account a keeps its entries, following the hashicorp and awssm
// plugins' settings (mount, prefix, path; defaults secret and ast). ok is false for other
// backends. The settings are taken as written; the plugin validates them (Configure).
func LocationOf(a Account) (loc Location, ok bool) {
	s := func(k, def string) string {
		if v, set := a.Settings[k]; set && strings.TrimSpace(v) != "" {
			return strings.Trim(strings.TrimSpace(v), "/")
		}
		return def
	}
	folder := func(prefix string) string {
		if p := s("path", ""); p != "" {
			return p
		}
		if prefix == "" {
			return a.Name
		}
		return prefix + "/" + a.Name
	}
	switch a.Backend {
	case "hashicorp":
		mount := s("mount", "secret")
		prefix := s("prefix", "ast")
		if v, set := a.Settings["prefix"]; set && strings.Trim(strings.TrimSpace(v), "/") == "" {
			prefix = "" // the hashicorp plugin takes an empty prefix as none (awssm as the default)
		}
		f := folder(prefix)
		return Location{Scope: s("address", "") + " " + s("namespace", ""), Folder: mount + "/" + f,
			Entry: mount + "/data/" + f + "/NAME"}, true
	case "awssm":
		f := folder(s("prefix", "ast"))
		return Location{Scope: s("region", "") + " " + s("profile", "") + " " + s("endpoint", ""), Folder: f,
			Entry: f + "/NAME"}, true
	}
	return Location{}, false
}

// CheckLocation refuses account a when its location is equal to, inside, or contains the
// location of another account on the same backend and server (see Location.Scope): two
// accounts never see each other's entries. Accounts of other backends, and a itself (by
// name), are not compared. The error names the other account and both folders.
func (c *Config) CheckLocation(a Account) error {
	mine, ok := LocationOf(a)
	if !ok {
		return nil
	}
	names := make([]string, 0, len(c.Accounts))
	for n := range c.Accounts {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		other := c.Accounts[n]
		if n == a.Name || other.Backend != a.Backend {
			continue
		}
		if other.Name == "" {
			other.Name = n
		}
		theirs, ok := LocationOf(other)
		if !ok || theirs.Scope != mine.Scope || !overlaps(mine.Folder, theirs.Folder) {
			continue
		}
		return fmt.Errorf("account %s would keep its entries in %s/, which overlaps %s/ of account %s on the same %s backend: "+
			"two accounts never share entries; choose a path (or prefix) outside it", a.Name, mine.Folder, theirs.Folder, n, a.Backend)
	}
	return nil
}

// overlaps reports whether folder a is b, inside b, or contains b (whole segments).
func overlaps(a, b string) bool {
	return a == b || strings.HasPrefix(a, b+"/") || strings.HasPrefix(b, a+"/")
}
