package projections

// All returns, fresh, every projection the service runs, in the order
// they are started, reading student streams from log where one needs
// to. Their names are stored state: renaming one means a rebuild.
func All(log StreamReader) []Projection {
	return []Projection{
		Students{}, Access{}, NewCharts(log), BreakGlass{}, Medications{}, ControlledStock{},
		LogIndex{}, Alerts{}, Accounts{}, Organisation{}, Activity{}, Disclosures{},
	}
}
