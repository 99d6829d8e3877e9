package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/commands"
	"github.com/whitecross/whitecross/domain"
)

func runUsers(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "add" {
		fmt.Fprintln(stderr, "usage: whitecross users add --email ADDRESS --role ROLE [--school ID] [--district ID] [--name NAME]")
		return flag.ErrHelp
	}
	return runUsersAdd(ctx, args[1:], os.Stdin, stdout, stderr)
}

// runUsersAdd creates an account from the command line, as the system
// itself: the way to make the first administrator. The password is read
// from the terminal without echo, or from the first line of standard
// input; never from a flag, which would leave it in the shell's history.
func runUsersAdd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	c := loadConfig()
	fs := c.flags("users add", stderr)
	email := fs.String("email", "", "the account's email address (required)")
	name := fs.String("name", "", "display name (default: the address's local part)")
	district := fs.String("district", "", "district ID, for a district administrator")
	var roles, schools listFlag
	fs.Var(&roles, "role", "role, repeatable or comma-separated: "+roleNames())
	fs.Var(&schools, "school", "school ID, repeatable or comma-separated")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if *name == "" {
		*name, _, _ = strings.Cut(*email, "@")
	}
	password, err := readPassword(stdin, stderr)
	if err != nil {
		return err
	}
	if password == "" {
		return errNoPassword
	}

	d, err := openDeps(ctx, c)
	if err != nil {
		return err
	}
	defer d.Close()
	// The command line issues no token: any key will do.
	key, err := auth.GenerateSigningKey()
	if err != nil {
		return err
	}
	accounts, err := newAccounts(c, d, key)
	if err != nil {
		return err
	}
	in := commands.NewAccount{Email: *email, DisplayName: *name, District: *district,
		Schools: schools, Password: password}
	for _, r := range roles {
		in.Roles = append(in.Roles, domain.Role(r))
	}
	id, res, err := accounts.CreateUser(ctx, nil, commands.Meta{RequestID: "cli"}, in)
	if err != nil {
		return describe(err)
	}
	fmt.Fprintf(stdout, "created account %s at log position %d\n", id, res.Position)
	return nil
}

// errNoPassword refuses an account without a password: nothing could set
// one later, and it could never log in.
var errNoPassword = errors.New("no password given: type it at the prompt, " +
	"or send it as the first line of standard input")

// describe lists every field a domain refusal names, one per line.
func describe(err error) error {
	errs := domain.ErrorsOf(err)
	if len(errs) == 0 {
		return err
	}
	var lines []string
	for _, e := range errs {
		lines = append(lines, fmt.Sprintf("%s: %s", orDash(e.Field), e.Message))
	}
	return errors.New("refused:\n  " + strings.Join(lines, "\n  "))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func roleNames() string {
	names := make([]string, len(domain.Roles))
	for i, r := range domain.Roles {
		names[i] = string(r)
	}
	return strings.Join(names, ", ")
}

// readPassword asks twice on a terminal, or takes standard input's first
// line otherwise; "" when there is none.
func readPassword(stdin io.Reader, stderr io.Writer) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stderr, "Password: ")
		first, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(stderr, "Again: ")
		second, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		if string(first) != string(second) {
			return "", errors.New("the two passwords differ")
		}
		return string(first), nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// listFlag collects a repeatable, comma-separated flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	*l = append(*l, list(v)...)
	return nil
}
