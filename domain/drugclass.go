package domain

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// drugClassesJSON is the drug class table: which active ingredients
// belong to which class, the names allergies are recorded under, and the
// classes known to cross-react. Its "source" field says where it comes
// from.
//
//go:embed drugclasses.json
var drugClassesJSON []byte

// drugClassFile is the layout of drugclasses.json.
type drugClassFile struct {
	Source  string `json:"source"`
	Classes []struct {
		Class       string   `json:"class"`
		ATC         string   `json:"atc"`
		Aliases     []string `json:"aliases"`
		Ingredients []string `json:"ingredients"`
	} `json:"classes"`
	CrossReactive []struct {
		Classes [2]string `json:"classes"`
		Note    string    `json:"note"`
	} `json:"cross_reactive"`
}

// drugClass is one class of the table, its names split into words.
type drugClass struct {
	name        string
	names       [][]string // the class name and its aliases, as words
	ingredients []string
	ingredientW [][]string // the ingredients, as words
}

// drugClassTable is the parsed table.
type drugClassTable struct {
	source  string
	classes []drugClass
	// crossReactive holds each cross-reactive pair both ways round.
	crossReactive map[[2]string]bool
}

// drugClasses is the embedded table, parsed once; it is never changed.
var drugClasses = mustParseDrugClasses(drugClassesJSON)

// mustParseDrugClasses parses the table, and panics when it is malformed:
// the file is part of the source code, and a test parses it.
func mustParseDrugClasses(data []byte) *drugClassTable {
	t, err := parseDrugClasses(data)
	if err != nil {
		panic("domain: drugclasses.json: " + err.Error())
	}
	return t
}

func parseDrugClasses(data []byte) (*drugClassTable, error) {
	var f drugClassFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, err
	}
	if strings.TrimSpace(f.Source) == "" {
		return nil, fmt.Errorf("no source")
	}

	t := &drugClassTable{source: f.Source, crossReactive: map[[2]string]bool{}}
	for _, c := range f.Classes {
		class, err := newDrugClass(c.Class, c.Aliases, c.Ingredients)
		if err != nil {
			return nil, err
		}
		if t.class(class.name) != nil {
			return nil, fmt.Errorf("class %q twice", class.name)
		}
		t.classes = append(t.classes, class)
	}
	for _, x := range f.CrossReactive {
		a, b := x.Classes[0], x.Classes[1]
		if t.class(a) == nil || t.class(b) == nil || a == b {
			return nil, fmt.Errorf("cross-reactive pair %q, %q: not two classes", a, b)
		}
		t.crossReactive[[2]string{a, b}] = true
		t.crossReactive[[2]string{b, a}] = true
	}
	return t, nil
}

func newDrugClass(name string, aliases, ingredients []string) (drugClass, error) {
	if name == "" || normalizeDrugTerm(name) != name {
		return drugClass{}, fmt.Errorf("class %q: not a lower-case name", name)
	}
	if len(ingredients) == 0 {
		return drugClass{}, fmt.Errorf("class %q: no ingredients", name)
	}

	c := drugClass{name: name, ingredients: ingredients}
	for _, n := range append([]string{name}, aliases...) {
		c.names = append(c.names, drugTermWords(n))
	}
	for _, in := range ingredients {
		if normalizeDrugTerm(in) != in {
			return drugClass{}, fmt.Errorf("class %q: ingredient %q not lower case", name, in)
		}
		c.ingredientW = append(c.ingredientW, drugTermWords(in))
	}
	return c, nil
}

func (t *drugClassTable) class(name string) *drugClass {
	for i := range t.classes {
		if t.classes[i].name == name {
			return &t.classes[i]
		}
	}
	return nil
}

// DrugClassSource says where the drug class table comes from and how far
// it goes.
func DrugClassSource() string { return drugClasses.source }

// ClassesOf returns the classes of the table that ingredient belongs to,
// in the table's order, or nil when the table knows none. An ingredient
// that names a table ingredient among its words belongs to its classes
// too: "naproxen sodium" is an NSAID as naproxen is. Case and punctuation
// do not matter.
func ClassesOf(ingredient string) []string {
	words := drugTermWords(ingredient)
	var out []string
	for _, c := range drugClasses.classes {
		if slices.ContainsFunc(c.ingredientW, func(in []string) bool {
			return containsWords(words, in)
		}) {
			out = append(out, c.name)
		}
	}
	return out
}

// IngredientsOf returns the ingredients the table lists for class, named
// by its class name or an alias ("penicillins", "sulfa"), or nil when the
// table has no such class. An alias of several classes ("beta-lactam")
// gives the ingredients of each.
func IngredientsOf(class string) []string {
	words := drugTermWords(class)
	var out []string
	for _, c := range drugClasses.classes {
		if slices.ContainsFunc(c.names, func(n []string) bool { return slices.Equal(n, words) }) {
			out = append(out, c.ingredients...)
		}
	}
	return out
}

// classesNamedIn returns the classes the words of an allergy name: by the
// class name or an alias ("penicillin", "sulfa drugs"), or by one of the
// class's ingredients ("amoxicillin" names the penicillins, since people
// allergic to one penicillin are treated as allergic to all).
func classesNamedIn(words []string) []string {
	var out []string
	for _, c := range drugClasses.classes {
		named := slices.ContainsFunc(c.names, func(n []string) bool {
			return containsWords(words, n)
		}) || slices.ContainsFunc(c.ingredientW, func(in []string) bool {
			return containsWords(words, in)
		})
		if named {
			out = append(out, c.name)
		}
	}
	return out
}

// canonicalClasses returns the table's classes that name (a class name or
// an alias) stands for, or name itself, normalised, when the table does
// not know it.
func canonicalClasses(name string) []string {
	words := drugTermWords(name)
	var out []string
	for _, c := range drugClasses.classes {
		if slices.ContainsFunc(c.names, func(n []string) bool { return slices.Equal(n, words) }) {
			out = append(out, c.name)
		}
	}
	if out == nil {
		return []string{normalizeDrugTerm(name)}
	}
	return out
}

// crossReactive reports whether the table lists classes a and b as
// cross-reactive.
func crossReactive(a, b string) bool { return drugClasses.crossReactive[[2]string{a, b}] }

// normalizeDrugTerm returns s in lower case with its words separated by
// one space and nothing else: "Penicillin-V  " becomes "penicillin v".
func normalizeDrugTerm(s string) string { return strings.Join(drugTermWords(s), " ") }

// drugTermWords splits s, in lower case, into its runs of letters and
// digits.
func drugTermWords(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// containsWords reports whether phrase occurs in words as a run of whole
// words.
func containsWords(words, phrase []string) bool {
	if len(phrase) == 0 {
		return false
	}
	for i := 0; i+len(phrase) <= len(words); i++ {
		if slices.Equal(words[i:i+len(phrase)], phrase) {
			return true
		}
	}
	return false
}

// allergyMatch is how an allergy relates to an order.
type allergyMatch int

const (
	noAllergyMatch allergyMatch = iota
	// crossReactiveMatch: a class of the order may cross-react with the
	// allergy's class, as cephalosporins with penicillins.
	crossReactiveMatch
	// allergyMatched: the allergy names an ingredient of the order, or
	// one of its classes.
	allergyMatched
)

// matchAllergy relates an allergy, by its allergen's words, to an order's
// ingredients and classes (Order.Classes). It errs towards a match: an
// ingredient matches when either of it and the allergen contains the
// other's words ("amoxicillin" and "amoxicillin trihydrate"), and an
// allergen matches every class it names by name, alias or ingredient
// ("amoxicillin" names the penicillins).
func matchAllergy(allergen string, ingredients, classes []string) allergyMatch {
	words := drugTermWords(allergen)
	if len(words) == 0 {
		return noAllergyMatch
	}

	for _, in := range ingredients {
		inWords := drugTermWords(in)
		if containsWords(words, inWords) || containsWords(inWords, words) {
			return allergyMatched
		}
	}
	named := classesNamedIn(words)
	for _, c := range classes {
		if slices.Contains(named, c) || containsWords(words, drugTermWords(c)) {
			return allergyMatched
		}
	}
	for _, a := range named {
		if slices.ContainsFunc(classes, func(c string) bool { return crossReactive(a, c) }) {
			return crossReactiveMatch
		}
	}
	return noAllergyMatch
}
