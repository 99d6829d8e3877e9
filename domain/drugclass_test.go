package domain

import (
	"slices"
	"strings"
	"testing"
)

func TestClassesOf(t *testing.T) {
	cases := []struct {
		ingredient string
		want       []string
	}{
		{"amoxicillin", []string{"penicillin"}},
		{"Amoxicillin", []string{"penicillin"}},
		{"amoxicillin trihydrate", []string{"penicillin"}},
		{"penicillin v potassium", []string{"penicillin"}},
		{"piperacillin", []string{"penicillin"}},
		{"cephalexin", []string{"cephalosporin"}},
		{"sulfamethoxazole", []string{"sulfonamide antibiotic"}},
		{"naproxen sodium", []string{"nsaid"}},
		{"aspirin", []string{"nsaid"}},
		{"codeine phosphate", []string{"opioid"}},
		{"acetaminophen", nil},
		{"trimethoprim", nil},
		{"", nil},
	}
	for _, c := range cases {
		t.Run(c.ingredient, func(t *testing.T) {
			if got := ClassesOf(c.ingredient); !slices.Equal(got, c.want) {
				t.Errorf("ClassesOf(%q) = %q, want %q", c.ingredient, got, c.want)
			}
		})
	}
}

func TestAmoxicillinIsAPenicillin(t *testing.T) {
	if !slices.Contains(ClassesOf("amoxicillin"), "penicillin") {
		t.Errorf("ClassesOf(amoxicillin) = %q, want penicillin among them", ClassesOf("amoxicillin"))
	}
	if !slices.Contains(IngredientsOf("penicillin"), "amoxicillin") {
		t.Errorf("IngredientsOf(penicillin) = %q, want amoxicillin among them", IngredientsOf("penicillin"))
	}
}

func TestIngredientsOf(t *testing.T) {
	cases := []struct {
		class   string
		has     []string
		hasNone []string
	}{
		{"penicillin", []string{"amoxicillin", "ampicillin", "penicillin v", "piperacillin"},
			[]string{"cephalexin"}},
		{"Penicillins", []string{"amoxicillin"}, nil},
		{"sulfa", []string{"sulfamethoxazole"}, []string{"amoxicillin"}},
		{"NSAIDs", []string{"ibuprofen", "naproxen", "aspirin"}, nil},
		{"non-steroidal anti-inflammatory drugs", []string{"ibuprofen"}, nil},
		{"opioids", []string{"morphine", "codeine"}, nil},
		{"beta-lactam", []string{"amoxicillin", "cephalexin"}, []string{"ibuprofen"}},
	}
	for _, c := range cases {
		t.Run(c.class, func(t *testing.T) {
			got := IngredientsOf(c.class)
			for _, in := range c.has {
				if !slices.Contains(got, in) {
					t.Errorf("IngredientsOf(%q) = %q, want %q among them", c.class, got, in)
				}
			}
			for _, in := range c.hasNone {
				if slices.Contains(got, in) {
					t.Errorf("IngredientsOf(%q) = %q, want no %q", c.class, got, in)
				}
			}
		})
	}
	if got := IngredientsOf("antihistamine"); got != nil {
		t.Errorf("IngredientsOf(unknown class) = %q, want nil", got)
	}
}

func TestDrugClassSource(t *testing.T) {
	got := DrugClassSource()
	for _, want := range []string{"WHO ATC", "J01C", "FDA", "not exhaustive"} {
		if !strings.Contains(got, want) {
			t.Errorf("DrugClassSource() = %q, want it to name %q", got, want)
		}
	}
}

func TestParseDrugClassesRefusals(t *testing.T) {
	class := func(name, ingredient string) string {
		return `{"class":"` + name + `","ingredients":["` + ingredient + `"]}`
	}
	table := func(source string, classes []string, cross string) string {
		return `{"source":"` + source + `","classes":[` + strings.Join(classes, ",") +
			`],"cross_reactive":[` + cross + `]}`
	}
	cases := []struct {
		name string
		data string
	}{
		{"not JSON", "{"},
		{"no source", table("", []string{class("a", "x")}, "")},
		{"class not lower case", table("s", []string{class("Penicillin", "x")}, "")},
		{"class without ingredients", table("s", []string{`{"class":"a"}`}, "")},
		{"ingredient not lower case", table("s", []string{class("a", "X")}, "")},
		{"class twice", table("s", []string{class("a", "x"), class("a", "y")}, "")},
		{"cross-reaction with an unknown class", table("s", []string{class("a", "x")},
			`{"classes":["a","b"]}`)},
		{"cross-reaction of a class with itself", table("s", []string{class("a", "x")},
			`{"classes":["a","a"]}`)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := parseDrugClasses([]byte(c.data)); err == nil {
				t.Errorf("parseDrugClasses accepted %s", c.data)
			}
		})
	}
	valid := table("s", []string{class("a", "x"), class("b", "y")}, `{"classes":["a","b"]}`)
	if _, err := parseDrugClasses([]byte(valid)); err != nil {
		t.Errorf("parseDrugClasses(valid) = %v", err)
	}
}

func TestMatchAllergy(t *testing.T) {
	amoxicillin := []string{"amoxicillin"}
	cases := []struct {
		name        string
		allergen    string
		ingredients []string
		want        allergyMatch
	}{
		{"the ingredient", "Amoxicillin", amoxicillin, allergyMatched},
		{"the class", "penicillin", amoxicillin, allergyMatched},
		{"the class, plural", "Penicillins", amoxicillin, allergyMatched},
		{"a combination naming the ingredient", "amoxicillin/clavulanate", amoxicillin, allergyMatched},
		{"another ingredient of the class", "ampicillin", amoxicillin, allergyMatched},
		{"a salt of the allergen", "amoxicillin", []string{"amoxicillin trihydrate"}, allergyMatched},
		{"a cross-reactive class", "penicillin", []string{"cefdinir"}, crossReactiveMatch},
		{"a cross-reactive class, the other way", "cephalexin", amoxicillin, crossReactiveMatch},
		{"an NSAID for an aspirin allergy", "aspirin", []string{"ibuprofen"}, allergyMatched},
		{"sulfa and amoxicillin", "sulfa", amoxicillin, noAllergyMatch},
		{"a word that only begins alike", "penicillium mold", amoxicillin, noAllergyMatch},
		{"empty", "  ", amoxicillin, noAllergyMatch},
		{"an ingredient the table does not know", "Diphenhydramine",
			[]string{"diphenhydramine hydrochloride"}, allergyMatched},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var classes []string
			for _, in := range c.ingredients {
				classes = union(classes, ClassesOf(in))
			}
			if got := matchAllergy(c.allergen, c.ingredients, classes); got != c.want {
				t.Errorf("matchAllergy(%q, %q) = %v, want %v", c.allergen, c.ingredients, got, c.want)
			}
		})
	}
}
