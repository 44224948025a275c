@login @browser
Feature: State fidelity
  The state is the app's defence against cross-site request forgery, and it must come back byte
  for byte whatever it holds: every printable ASCII character (RFC 6749 Appendix A.5, VSCHAR),
  at 1 KB and 4 KB. Non-ASCII text is outside VSCHAR: it must be refused or come back unchanged,
  never altered.

  Background:
    Given the web app

  @AR-02 @req:S-08 @MUST @web
  Scenario Outline: A state of <state> comes back byte for byte
    Given the state sent is <state>
    When the user signs in through the browser
    Then the callback's state is exactly the one sent

    Examples:
      | state                     |
      | printable ASCII at 1 KB   |
      | printable ASCII at 4 KB   |
      | " !#$%&'()*+,-./:;<=>?@[]^_`{}~"  |

  @AR-02 @req:S-08 @MUST @web
  Scenario: A non-ASCII state is refused or kept, never changed
    Given the state sent is non-ASCII text
    When the user signs in through the browser
    Then the state comes back exactly, or the request is refused with an error
