@errors @browser
Feature: Token endpoint errors
  A token error is JSON with a registered `error` code, an `error_description` and an
  `error_uri` (RFC 6749 §5.2, Marketing Cloud's shape), status 400, or 401 for invalid_client.
  The error matrix pins the exact code and status of each cause, so a change in the target shows
  up as a failure; a reused code (TK-02) and a wrong client secret (TK-08) have their own checks. Throttling has another shape (errorcode, Retry-After) and must not be mistaken
  for an OAuth error.

  @TE-01 @req:S-15 @MUST @web @sfmc
  Scenario: A wrong client secret gets Marketing Cloud's error shape with 401
    Given the web app
    And the user has authorized the app in the browser
    When the app redeems the code with a wrong client secret
    Then the token endpoint answers 401 with error invalid_client
    And the error body has exactly the fields "error, error_description, error_uri"
    And the token response's media type is "application/json"

  @TE-01 @req:S-15 @MUST @web
  Scenario: A bad code gets the error shape with 400
    Given the web app
    And the user has authorized the app in the browser
    When the token request has an unknown code
    Then the token endpoint answers 400 with error invalid_grant
    And the error body has exactly the fields "error, error_description, error_uri"

  @TE-02 @req:S-15 @MUST @web @serial
  Scenario Outline: The error matrix: <defect> gives <status> <error>
    Given the web app
    And the user has authorized the app in the browser
    When the token request has <defect>
    Then the token endpoint answers <status> with error <error>

    Examples:
      | defect                      | status | error                  |
      | an unknown code             | 400    | invalid_grant          |
      | an unknown client_id        | 401    | invalid_client         |
      | no code                     | 400    | invalid_request        |
      | grant_type foo              | 400    | unsupported_grant_type |

    @sfmc
    Examples: a scope at the token endpoint (Marketing Cloud's; RFC 6749 §4.1.3 has none)
      | defect                      | status | error                  |
      | a scope that was not granted | 400   | invalid_scope          |

    @slow
    Examples: waiting out the code's lifetime (the simulator's clock, or 10 minutes in real time)
      | defect                      | status | error                  |
      | an expired code             | 400    | invalid_grant          |

    @other-uri
    Examples: with a second registered redirect URI
      | defect                      | status | error                  |
      | another redirect_uri        | 400    | invalid_grant          |

  @TE-03 @req:SFMC @MUST @web @sfmc @simulator @serial
  Scenario: Throttling is answered in Marketing Cloud's shape, apart from OAuth errors
    Only the simulator can be made to throttle: the harness never induces throttling on a live
    tenant on purpose.

    Given the web app
    And the target is throttling
    When the app asks for a token with grant_type "client_credentials"
    Then the answer is Marketing Cloud's throttling shape with Retry-After, not an OAuth error
