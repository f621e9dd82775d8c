package catalog

import (
	"github.com/gpcore/gpcore/internal/store"
)

// Default (and maximum) page sizes of the catalog's list calls. They are large
// enough that a request without a limit gets the whole list in one page.
const (
	// CountriesPageLimit covers every ISO 3166-1 country.
	CountriesPageLimit = 300
	// TimezonesPageLimit covers every listed time zone.
	TimezonesPageLimit = 500
	// DatacentersPageLimit is the default page of ListDatacenters.
	DatacentersPageLimit = 100
	// FlavoursPageLimit is the default page of ListFlavours.
	FlavoursPageLimit = 100
	// PublicImagesPageLimit is the default page of ListPublicImages, counted
	// in operating systems.
	PublicImagesPageLimit = 100
)

// Catalog reads the catalog. It is safe for concurrent use.
type Catalog struct {
	db *store.DB
}

// New returns a Catalog over db, which must be migrated.
func New(db *store.DB) *Catalog {
	return &Catalog{db: db}
}
