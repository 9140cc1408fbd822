// Package web serves the account dashboard: so far the sign-in page, the
// account page and signing out, on sessions kept by auth; and the Apple
// configuration profile and the DAVx5 link and QR code of the coming
// "connect a device" page.
package web
