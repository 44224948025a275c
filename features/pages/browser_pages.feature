@pages @browser
Feature: The target's pages in the browser, and tokens in URLs
  The authorization and login pages must refuse to be framed (clickjacking, RFC 9700 §4.16),
  should keep their URLs out of Referer headers, load nothing from third parties while codes and
  states are in play (RFC 9700 §4.2), and protect the login form against cross-site request
  forgery (RFC 6749 §10.12). The REST API must take access tokens from the Authorization header,
  not the query string (RFC 9700 §4.3.2).

  Background:
    Given the web app

  @BP-01 @req:S-25 @MUST @web
  Scenario: Every page of the authorization request refuses to be framed
    Given a browser with no login session
    Then every page of the target refuses to be framed

  @BP-02 @req:S-25 @MUST @web
  Scenario: The login page does not render inside another origin's frame
    Given a browser with no login session
    When a page of another origin frames the authorization URL
    Then the framed login page does not render

  @BP-03 @req:S-26 @SHOULD @web
  Scenario: The target's pages carry a Referrer-Policy
    Then every page of the target carries a Referrer-Policy

  @BP-04 @req:RFC9700-4.2 @MUST @web
  Scenario: No third party receives the state or the code during the login flow
    Given a browser with no login session
    When the user signs in through the browser
    Then no request to a third party carried the state or the code

  @BP-04 @req:RFC9700-4.2 @MUST @web @sfmc
  Scenario: The login flow loads nothing from a third party (Marketing Cloud)
    Given a browser with no login session
    When the user signs in through the browser
    Then the browser requested nothing from a third party while on the target's pages

  @BP-04 @req:RFC9700-4.2 @PROBE @web
  Scenario: The login flow loads nothing from a third party
    A third-party style sheet or font leaks no code or state, but tells the third party who
    signs in, and from where.

    Given a browser with no login session
    When the user signs in through the browser
    Then the browser requested nothing from a third party while on the target's pages

  @BP-05 @req:general @SHOULD @web @live-only
  Scenario: Login cookies are Secure, HttpOnly and SameSite, and HSTS is on
    The simulator serves plain HTTP on loopback, where Secure cookies and HSTS cannot apply.
    Then the target's login cookies are Secure, HttpOnly and SameSite, with HSTS

  @BP-06 @req:S-28 @PROBE @web @intrusive
  Scenario: A login form replayed without its anti-CSRF token is refused
    When the login form is submitted without its anti-CSRF token
    Then the target refuses the login

  @BP-07 @req:S-29 @SHOULD @web
  Scenario: The REST API refuses an access token in the query string
    Given the user has authorized the app in the browser, with the refresh scope, and the app has redeemed the code
    When the REST API is called with the access token in the query string
    Then the REST API refuses the access token in the query string
    And the REST API accepts the access token in the Authorization header
