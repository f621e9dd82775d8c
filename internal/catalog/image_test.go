package catalog_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/pagination"
	"github.com/gpcore/gpcore/internal/store/storetest"
)

// systemsAndAliases renders a ListPublicImages result as
// "OS: alias alias; OS: alias".
func systemsAndAliases(systems []catalog.OperatingSystem) string {
	var parts []string
	for _, os := range systems {
		aliases := make([]string, len(os.Images))
		for i, img := range os.Images {
			aliases[i] = img.Alias
		}
		parts = append(parts, os.Name+": "+strings.Join(aliases, " "))
	}
	return strings.Join(parts, "; ")
}

func TestListPublicImages(t *testing.T) {
	t.Parallel()
	db, c := seeded(t)
	small := idOf(t, db, "flavours", "name", "BM-S1")
	medium := idOf(t, db, "flavours", "name", "BM-M1")
	everything := "Debian: debian-12; Rocky Linux: rocky-9; Ubuntu: ubuntu-20.04 ubuntu-24.04; Windows Server: windows-server-2022"

	for _, tc := range []struct {
		name   string
		filter catalog.PublicImageFilter
		page   pagination.Page
		want   string
		total  int64
	}{
		{"all", catalog.PublicImageFilter{}, all, everything, 4},
		{"Windows not on BM-S1", catalog.PublicImageFilter{FlavourID: small}, all,
			"Debian: debian-12; Rocky Linux: rocky-9; Ubuntu: ubuntu-20.04 ubuntu-24.04", 3},
		{"Windows on BM-M1", catalog.PublicImageFilter{FlavourID: medium}, all, everything, 4},
		{"no AWS images in the default seed", catalog.PublicImageFilter{CloudProviderType: catalog.CloudProviderAWS}, all, "", 0},
		{"second page", catalog.PublicImageFilter{}, pagination.Page{Number: 2, Limit: 2},
			"Ubuntu: ubuntu-20.04 ubuntu-24.04; Windows Server: windows-server-2022", 4},
		{"past the end", catalog.PublicImageFilter{}, pagination.Page{Number: 3, Limit: 2}, "", 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, total, err := c.ListPublicImages(t.Context(), tc.filter, tc.page)
			if err != nil {
				t.Fatalf("ListPublicImages: %v", err)
			}
			if s := systemsAndAliases(got); s != tc.want || total != tc.total {
				t.Fatalf("got %q (total %d), want %q (total %d)", s, total, tc.want, tc.total)
			}
		})
	}

	systems, _, err := c.ListPublicImages(t.Context(), catalog.PublicImageFilter{}, all)
	if err != nil {
		t.Fatal(err)
	}
	ubuntu, windows := systems[2], systems[3]
	if ubuntu.Family != catalog.Linux || ubuntu.DefaultImageID != idOf(t, db, "images", "alias", "ubuntu-24.04") {
		t.Errorf("Ubuntu = %+v, want LINUX with default ubuntu-24.04", ubuntu)
	}
	eol := ubuntu.Images[0]
	if eol.Release != catalog.ReleaseEndOfLife || eol.Available || !eol.Public {
		t.Errorf("ubuntu-20.04 = %+v, want public, END_OF_LIFE and unavailable", eol)
	}
	if !slices.Equal(eol.AuthenticationTypes, []catalog.AuthenticationType{catalog.AuthPassword, catalog.AuthSSH}) {
		t.Errorf("ubuntu-20.04 authentication = %v", eol.AuthenticationTypes)
	}
	win := windows.Images[0]
	if windows.Family != catalog.Windows || !win.ContainsSPLALicense || win.Username != "Administrator" ||
		!slices.Equal(win.AuthenticationTypes, []catalog.AuthenticationType{catalog.AuthPassword}) ||
		windows.DefaultImageID != win.ID {
		t.Errorf("Windows Server = %+v", windows)
	}

	_, _, err = c.ListPublicImages(t.Context(), catalog.PublicImageFilter{FlavourID: "00000000-0000-4000-8000-00000000dead"}, all)
	wantFault(t, err, fault.KindNotFound)
	_, _, err = c.ListPublicImages(t.Context(), catalog.PublicImageFilter{CloudProviderType: "AZURE"}, all)
	wantFault(t, err, fault.KindInvalidArgument)
}

func TestListPublicImagesByCloudProvider(t *testing.T) {
	t.Parallel()
	db := storetest.New(t)
	seed := strings.Replace(testSeed, "        authentication_types: [SSH]\n", `        authentication_types: [SSH]
        cloud_provider_images:
          - {id: 00000000-0000-4000-8000-000000000040, type: AWS, cloud_provider_image_id: ami-0123456789abcdef0}
      - id: 00000000-0000-4000-8000-000000000041
        alias: debian-11
        name: Debian 11
        username: debian
        authentication_types: [SSH]
        default: true
`, 1)
	if err := catalog.Seed(t.Context(), db, []byte(seed)); err != nil {
		t.Fatal(err)
	}
	c := catalog.New(db)
	for _, tc := range []struct {
		provider catalog.CloudProviderType
		want     string
	}{
		{"", "Debian: debian-11 debian-12"},
		{catalog.CloudProviderAWS, "Debian: debian-12"},
		{catalog.CloudProviderTencent, ""},
	} {
		got, _, err := c.ListPublicImages(t.Context(), catalog.PublicImageFilter{CloudProviderType: tc.provider}, all)
		if err != nil {
			t.Fatal(err)
		}
		if s := systemsAndAliases(got); s != tc.want {
			t.Errorf("provider %q: %q, want %q", tc.provider, s, tc.want)
		}
	}
	got, _, err := c.ListPublicImages(t.Context(), catalog.PublicImageFilter{CloudProviderType: catalog.CloudProviderAWS}, all)
	if err != nil {
		t.Fatal(err)
	}
	cp := got[0].Images[0].CloudProviderImages
	if len(cp) != 1 || cp[0].Type != catalog.CloudProviderAWS || cp[0].CloudProviderImageID != "ami-0123456789abcdef0" ||
		cp[0].ID != "00000000-0000-4000-8000-000000000040" {
		t.Errorf("cloud provider images = %+v", cp)
	}
	if got[0].DefaultImageID != "00000000-0000-4000-8000-000000000041" {
		t.Errorf("default image = %s, want debian-11's even when filtered out", got[0].DefaultImageID)
	}
}
