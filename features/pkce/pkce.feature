@pkce @browser
Feature: PKCE
  Marketing Cloud documents no PKCE. RFC 7636 and RFC 9700 §2.1.1 say a server must support S256,
  verify the code_verifier whenever a code_challenge was sent, refuse a verifier when none was
  sent (the downgrade of §4.8.2), and public clients must use it. Where Marketing Cloud's
  behaviour is unknown, these checks are probes: they record what they see and report a finding
  where a public app would be left unprotected against code interception.

  @PK-01 @req:S-19 @MUST @public
  Scenario: A public app's valid S256 PKCE succeeds
    Given the public app
    And the user has authorized the app in the browser
    When the app redeems the code at the token endpoint
    Then the token endpoint answers 200

  @PK-01 @req:S-19 @MUST @web
  Scenario: PKCE does not break a web app
    Given the web app
    And the app uses PKCE with S256
    And the user has authorized the app in the browser
    When the app redeems the code at the token endpoint
    Then the token endpoint answers 200

  @PK-02 @req:S-19 @MUST @public
  Scenario: A wrong code_verifier is refused with invalid_grant
    Given the public app
    And the user has authorized the app in the browser
    When the app redeems the code with a code_verifier of another flow
    Then the token endpoint answers 400 with error invalid_grant

  @PK-03 @req:S-20 @PROBE @public
  Scenario: A challenge was sent but the verifier is left out: refused
    Given the public app
    And the user has authorized the app in the browser
    When the app redeems the code without a code_verifier
    Then the token endpoint answers 400 with error invalid_grant or invalid_request

  @PK-04 @req:S-20 @PROBE @web
  Scenario: No challenge was sent but a verifier comes at the token endpoint: refused
    Given the web app
    And the app uses no PKCE
    And the user has authorized the app in the browser
    When the app redeems the code with a code_verifier although it sent no challenge
    Then the token endpoint refuses it

  @PK-05 @req:S-20 @PROBE @public
  Scenario: The challenge itself sent as the verifier is refused
    Given the public app
    And the user has authorized the app in the browser
    When the app redeems the code with the code_challenge as its code_verifier
    Then the token endpoint refuses it

  @PK-06 @req:S-20 @PROBE @public
  Scenario: The plain method is refused
    Given the public app
    And the authorization request's code_challenge_method is plain
    When the user signs in through the browser
    Then the callback carries error invalid_request

  @PK-07 @req:S-20 @PROBE @public
  Scenario: A public app without PKCE gets no tokens
    Given the public app
    And the app uses no PKCE
    When the user signs in through the browser
    Then the app gets no tokens: refused at authorize, or its code refused at the token endpoint

  @PK-08 @req:S-19 @PROBE @public
  Scenario Outline: A code_verifier of <what> is refused
    Given the public app
    And <setup>
    And the user has authorized the app in the browser
    When the app redeems the code at the token endpoint
    Then the token endpoint refuses it

    Examples:
      | what              | setup                                        |
      | 42 characters     | the app's code_verifier is 42 characters long  |
      | 129 characters    | the app's code_verifier is 129 characters long |
      | a plus sign       | the app's code_verifier contains "+"           |
      | a slash           | the app's code_verifier contains "/"           |
      | an equals sign    | the app's code_verifier contains "="           |

  @PK-08 @req:S-19 @PROBE @public
  Scenario Outline: A code_verifier of <what> is accepted
    Given the public app
    And <setup>
    And the user has authorized the app in the browser
    When the app redeems the code at the token endpoint
    Then the token endpoint answers 200

    Examples:
      | what           | setup                                          |
      | 43 characters  | the app's code_verifier is 43 characters long  |
      | 128 characters | the app's code_verifier is 128 characters long |

  @PK-09 @req:S-19 @PROBE @public
  Scenario: An unsupported code_challenge_method is refused with invalid_request
    Given the public app
    And the authorization request's code_challenge_method is S512
    When the user signs in through the browser
    Then the callback carries error invalid_request

  @PK-10 @req:S-19 @PROBE @public
  Scenario: A verifier is bound to its own code
    Given the public app
    And the user has authorized the app in the browser
    And a second authorization of the app with its own PKCE pair
    When the app redeems the second code with the first flow's code_verifier
    Then the token endpoint answers 400 with error invalid_grant
