package sparkconnect

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseRemote(t *testing.T) {
	const sid = "0d9a2f4e-8a8b-4c3e-9f6b-1a2b3c4d5e6f"
	tests := []struct {
		in      string
		want    Remote
		wantErr string
	}{
		{in: "sc://localhost", want: Remote{Host: "localhost", Port: 15002}},
		{in: "sc://127.0.0.1:40123", want: Remote{Host: "127.0.0.1", Port: 40123}},
		{in: "sc://spark.example:443/", want: Remote{Host: "spark.example", Port: 443}},
		{in: "sc://[::1]:15003", want: Remote{Host: "::1", Port: 15003}},
		{in: "sc://[::1]", want: Remote{Host: "::1", Port: 15002}},
		{
			in: "sc://h:1/;user_id=ann;session_id=" + sid + ";user_agent=gp%20test;x-tenant=blue",
			want: Remote{Host: "h", Port: 1, UserID: "ann", SessionID: sid, UserAgent: "gp test",
				Headers: map[string]string{"x-tenant": "blue"}},
		},
		{in: "sc://h/;use_ssl=true", want: Remote{Host: "h", Port: 15002, UseSSL: true}},
		{in: "sc://h/;use_ssl=false;;", want: Remote{Host: "h", Port: 15002}},
		// A token implies TLS, as in Spark's clients.
		{in: "sc://h/;token=s3cret", want: Remote{Host: "h", Port: 15002, Token: "s3cret", UseSSL: true}},
		{in: "sc://h/;X-Tenant=blue", want: Remote{Host: "h", Port: 15002, Headers: map[string]string{"x-tenant": "blue"}}},

		{in: "", wantErr: "want sc://"},
		{in: "http://h:15002", wantErr: "want sc://"},
		{in: "sc://", wantErr: "no host"},
		{in: "sc://:15002", wantErr: "no host"},
		{in: "sc://h:0", wantErr: "port"},
		{in: "sc://h:70000", wantErr: "port"},
		{in: "sc://h:abc", wantErr: "port"},
		{in: "sc://::1:15002", wantErr: "brackets"},
		{in: "sc://h/path", wantErr: "must be empty or start with ;"},
		{in: "sc://h/;user_id", wantErr: "not key=value"},
		{in: "sc://h/;=x", wantErr: "not key=value"},
		{in: "sc://h/;use_ssl=yes", wantErr: "use_ssl"},
		{in: "sc://h/;session_id=not-a-uuid", wantErr: "not a UUID"},
		{in: "sc://h/;grpc-timeout=1", wantErr: "gRPC header"},
		{in: "sc://h/;bad key=1", wantErr: "gRPC header"},
		{in: "sc://h/;user_id=%zz", wantErr: "user_id"},
		// The token is never echoed.
		{in: "sc://h:x/;token=s3cret", wantErr: "token=***"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseRemote(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseRemote(%q) = %+v, %v; want an error with %q", tt.in, got, err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Errorf("error %q shows the token", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseRemote(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseRemote(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestRemoteStringHidesTokenAndRoundTrips(t *testing.T) {
	r, err := ParseRemote("sc://h:7/;token=s3cret;user_id=a%3Bb;x-y=1")
	if err != nil {
		t.Fatal(err)
	}
	s := r.String()
	if strings.Contains(s, "s3cret") || !strings.Contains(s, "token=***") {
		t.Errorf("String() = %q, want the token hidden", s)
	}
	r.Token = ""
	r.UseSSL = false
	back, err := ParseRemote(r.String())
	if err != nil || !reflect.DeepEqual(back, r) {
		t.Errorf("ParseRemote(%q) = %+v, %v; want %+v", r.String(), back, err, r)
	}
}

// FuzzParseRemote: any input parses or fails without panicking; what
// parses prints (token aside) to a string that parses to the same Remote.
func FuzzParseRemote(f *testing.F) {
	for _, s := range []string{
		"sc://localhost", "sc://127.0.0.1:15002/;user_id=x;session_id=0d9a2f4e-8a8b-4c3e-9f6b-1a2b3c4d5e6f",
		"sc://[::1]:1/;use_ssl=true;token=t", "sc://h/;a=b;c=%20d", "sc://h:/", "sc://[::1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRemote(s)
		if err != nil {
			return
		}
		if r.Host == "" || r.Port < 1 || r.Port > 65535 {
			t.Fatalf("ParseRemote(%q) = %+v: no host or a bad port", s, r)
		}
		r.Token = ""
		back, err := ParseRemote(r.String())
		if err != nil {
			t.Fatalf("ParseRemote(%q) = %+v, whose String %q does not parse: %v", s, r, r.String(), err)
		}
		if !reflect.DeepEqual(back, r) {
			t.Fatalf("round trip of %q: %+v, want %+v", r.String(), back, r)
		}
	})
}
