package main

import (
	"context"
	"fmt"
	"io"

	"github.com/whitecross/whitecross/migrations"
)

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := loadConfig()
	fs := c.flags("migrate", stderr)
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if err := migrations.Apply(ctx, c.DatabaseURL); err != nil {
		return err
	}
	latest, err := migrations.Latest()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "database is at migration %d\n", latest)
	return nil
}
