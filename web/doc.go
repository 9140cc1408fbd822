// Package web holds the account dashboard's parts. So far: the Apple
// configuration profile and the DAVx5 link and QR code of its "connect a
// device" page; the pages themselves are still to come.
package web
